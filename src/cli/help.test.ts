import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { hotpathBin } from '../testing/hotpath-bin.js';
import { DEFAULT_HELP_WIDTH, helpWidthFor, MAX_HELP_WIDTH } from './help-layout.js';
import { buildProgram } from './main.js';

// Help as a reader meets it: the usage says what a command takes, and descriptions are sentences
// that wrap where the terminal ends, not where the source code's lines ended.

function hotpath(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [hotpathBin, ...args], { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Every command below `program`, with the words that run it (["keys", "create"]). */
function allCommands(program: Command, path: string[] = []): Array<{ path: string[]; cmd: Command }> {
  return program.commands.flatMap((cmd) => {
    const here = [...path, cmd.name()];
    return [{ path: here, cmd }, ...allCommands(cmd, here)];
  });
}

/** The help of `cmd` as commander renders it at `width` columns (what a terminal that wide shows). */
function helpAt(cmd: Command, width: number): string {
  cmd.configureOutput({ getOutHelpWidth: () => width });
  return cmd.helpInformation();
}

/** The description paragraph of a rendered help: the lines after the usage line, up to the next blank line. */
function descriptionLines(help: string): string[] {
  const lines = help.split('\n');
  assert.match(lines[0], /^Usage: /);
  if (lines[1] !== '' || lines[2] === undefined || /^(Options|Arguments|Commands):$/.test(lines[2])) return [];
  const end = lines.indexOf('', 2);
  return lines.slice(2, end === -1 ? undefined : end);
}

const commands = allCommands(buildProgram());

describe('help', () => {
  it('the top-level list shows pgo with its DEST, as pgo --help does', () => {
    const top = hotpath('--help');
    assert.equal(top.status, 0, top.stderr);
    assert.match(top.stdout, /\n {2}pgo \[options\] QUERY\.\.\. DEST +\S/);
    assert.match(hotpath('pgo', '--help').stdout, /^Usage: hotpath pgo \[options\] QUERY\.\.\. DEST\n/);
  });

  it('lists every command in the top-level help under the usage its own help shows', () => {
    const top = hotpath('--help').stdout;
    for (const { path, cmd } of commands.filter((c) => c.path.length === 1)) {
      const own = hotpath(...path, '--help').stdout;
      const usage = /^Usage: hotpath (.+)\n/.exec(own)?.[1];
      assert.ok(usage, `hotpath ${path.join(' ')} --help has a usage line`);
      assert.ok(top.includes(`\n  ${usage} `) || top.includes(`\n  ${usage}\n`), `top-level help lists "${usage}"`);
      assert.equal(usage, `${cmd.name()} ${cmd.usage()}`);
    }
  });

  it('no description or option text carries a line break of its own: commander wraps them to the terminal', () => {
    for (const { path, cmd } of commands) {
      const where = `hotpath ${path.join(' ')}`;
      assert.doesNotMatch(cmd.description(), /\n/, `${where}: description`);
      assert.doesNotMatch(cmd.summary(), /\n/, `${where}: summary`);
      for (const option of cmd.options) assert.doesNotMatch(option.description, /\n/, `${where} ${option.flags}`);
      for (const arg of cmd.registeredArguments) assert.doesNotMatch(arg.description, /\n/, `${where} <${arg.name()}>`);
    }
  });

  for (const width of [DEFAULT_HELP_WIDTH, MAX_HELP_WIDTH, 200]) {
    it(`at ${width} columns, description lines break only where the next word would not fit`, () => {
      let checked = 0;
      for (const { path, cmd } of commands) {
        const lines = descriptionLines(helpAt(cmd, width));
        for (let i = 0; i + 1 < lines.length; i++) {
          const nextWord = lines[i + 1].trimStart().split(' ')[0];
          assert.ok(
            lines[i].length + 1 + nextWord.length > width,
            `hotpath ${path.join(' ')} at ${width} columns breaks early after:\n${lines[i]}\n${lines[i + 1]}`,
          );
          checked++;
        }
        // Nothing of the description is lost in the wrapping.
        assert.equal(lines.join(' ').replace(/\s+/g, ' '), cmd.description().replace(/\s+/g, ' ').trim());
      }
      if (width === DEFAULT_HELP_WIDTH) assert.ok(checked > 5, 'long descriptions wrap at 80 columns');
    });
  }

  it('every line of every help, examples included, fits in 80 columns when not on a terminal', () => {
    for (const { path } of [{ path: [] as string[] }, ...commands]) {
      if (path.at(-1) === 'help') continue;
      const r = hotpath(...path, '--help');
      assert.equal(r.status, 0, `hotpath ${path.join(' ')} --help: ${r.stderr}`);
      for (const line of r.stdout.split('\n'))
        assert.ok(line.length <= 80, `hotpath ${path.join(' ')} --help: ${line.length} columns:\n${line}`);
    }
  });

  it('wraps at the terminal width up to 100 columns, and at 80 when not on a terminal', () => {
    assert.equal(helpWidthFor({ isTTY: true, columns: 60 }), 60);
    assert.equal(helpWidthFor({ isTTY: true, columns: 90 }), 90);
    assert.equal(helpWidthFor({ isTTY: true, columns: 250 }), MAX_HELP_WIDTH);
    assert.equal(helpWidthFor({ isTTY: false, columns: 250 }), 80);
    assert.equal(helpWidthFor({}), 80);
  });
});
