import type { Command } from 'commander';
import { CliError } from './errors.js';

/** Commands whose users come from a Go tool and type its flags Go's way (`hotpath pgo` replaces datadog-pgo). */
const GO_STYLE_COMMANDS: ReadonlySet<string> = new Set(['pgo']);

/** A flag-shaped argument: one or two dashes, a name of letters, digits and dashes, maybe `=value`. */
const FLAG_SHAPE = /^--?([A-Za-z][A-Za-z0-9-]*)(?:=([\s\S]*))?$/;

/** The spellings of true and false Go's flag package accepts for `-flag=value` (strconv.ParseBool). */
const GO_TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

interface KnownFlag {
  /** How commander is given the flag: its long form, else its short form. */
  spelling: string;
  takesValue: boolean;
}

/** Every flag of `command` by bare name (`from`, `v`, `verbose`, `help`). */
function knownFlags(command: Command): Map<string, KnownFlag> {
  const known = new Map<string, KnownFlag>();
  for (const option of command.options) {
    const spelling = option.long ?? option.short;
    if (spelling === undefined) continue;
    const flag = { spelling, takesValue: option.required || option.optional };
    if (option.long) known.set(option.long.replace(/^--/, ''), flag);
    if (option.short) known.set(option.short.replace(/^-/, ''), flag);
  }
  known.set('help', { spelling: '--help', takesValue: false });
  known.set('h', { spelling: '--help', takesValue: false });
  return known;
}

/**
 * Returns the arguments of `command` (those after its name) with Go's flag syntax read as
 * commander's: `-from 72h`, `-from=72h`, `--from=72h`, `-fail`, `-fail=false`, `--v` all mean
 * what they mean to a Go program. Only flags the command defines are rewritten; every other
 * argument is an operand and is passed after `--`, so operands that start with a dash stay
 * operands: a query term such as `-env:staging` (a negation), a query `-service:x OR env:y`, a
 * lone `-`. A flag's value is taken as it is, whatever it starts with. Flag-shaped arguments the
 * command does not define (`-frm`) stay flags, for commander to refuse by name. As in Go, `--`
 * ends the flags. Throws CliError for a boolean flag given a value Go would refuse.
 */
export function goStyleArgs(command: Command, args: readonly string[]): string[] {
  const known = knownFlags(command);
  const flags: string[] = [];
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    const shape = FLAG_SHAPE.exec(arg);
    if (shape === null) {
      operands.push(arg);
      continue;
    }
    const [, name, value] = shape;
    const flag = known.get(name);
    if (flag === undefined) {
      flags.push(arg);
      continue;
    }
    if (flag.takesValue) {
      if (value !== undefined) flags.push(flag.spelling, value);
      else if (i + 1 < args.length) flags.push(flag.spelling, args[++i]);
      else flags.push(flag.spelling); // commander says the value is missing
      continue;
    }
    if (value === undefined || GO_TRUE.has(value)) flags.push(flag.spelling);
    else if (!GO_FALSE.has(value)) {
      throw new CliError(`${arg.split('=')[0]} is a switch: give it alone or as =true / =false, got ${JSON.stringify(arg)}`);
    }
  }
  return operands.length > 0 ? [...flags, '--', ...operands] : flags;
}

/**
 * Returns the CLI arguments `argv` (command first) with Go's flag syntax read for the commands
 * that take it (see goStyleArgs); other commands' arguments are returned as they are.
 */
export function withGoStyleFlags(program: Command, argv: readonly string[]): string[] {
  const command = program.commands.find((c) => c.name() === argv[0]);
  if (command === undefined || !GO_STYLE_COMMANDS.has(command.name())) return [...argv];
  return [argv[0], ...goStyleArgs(command, argv.slice(1))];
}
