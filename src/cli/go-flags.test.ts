import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { CliError } from './errors.js';
import { goStyleArgs, withGoStyleFlags } from './go-flags.js';
import { buildProgram } from './main.js';

interface Parsed {
  operands: string[];
  flags: Record<string, unknown>;
}

/** Parses `hotpath pgo ARGS` with the real command definitions, capturing what the action would get. */
async function parsePgo(...args: string[]): Promise<Parsed> {
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  const pgo = program.commands.find((c) => c.name() === 'pgo') as Command;
  pgo.exitOverride();
  let parsed: Parsed | undefined;
  pgo.action((operands: string[], flags: Record<string, unknown>) => {
    parsed = { operands, flags };
  });
  await program.parseAsync(withGoStyleFlags(program, ['pgo', ...args]), { from: 'user' });
  return parsed as Parsed;
}

describe('Go-style flags for hotpath pgo', () => {
  it("reads datadog-pgo's command line as datadog-pgo does", async () => {
    const p = await parsePgo('-fail', '-profiles', '3', '-from', '24h', '-timeout', '30s', '-json', 'service:x', 'out.pgo');
    assert.deepEqual(p.operands, ['service:x', 'out.pgo']);
    assert.equal(p.flags.fail, true);
    assert.equal(p.flags.json, true);
    assert.equal(p.flags.profiles, '3');
    assert.equal(p.flags.from, '24h');
    assert.equal(p.flags.timeout, '30s');
  });

  it('takes -flag=value, --flag=value, --v, -v and the double-dash forms alike', async () => {
    const a = await parsePgo('-from=1h30m', '--profiles=7', '--v', 'service:x', 'out.pgo');
    const b = await parsePgo('--from', '1h30m', '--profiles', '7', '-v', 'service:x', 'out.pgo');
    const c = await parsePgo('-verbose', '--from=1h30m', '-profiles=7', 'service:x', 'out.pgo');
    for (const p of [a, b, c]) {
      assert.deepEqual(p.operands, ['service:x', 'out.pgo']);
      assert.equal(p.flags.from, '1h30m');
      assert.equal(p.flags.profiles, '7');
      assert.equal(p.flags.verbose, true);
    }
  });

  it('reads Go booleans: -fail=true sets, -json=false and -fail=0 leave unset, -fail=yes is refused', async () => {
    const p = await parsePgo('-fail=true', '-json=false', 'service:x', 'out.pgo');
    assert.equal(p.flags.fail, true);
    assert.equal(p.flags.json, undefined);
    assert.equal((await parsePgo('-fail=0', 'service:x', 'out.pgo')).flags.fail, undefined);
    await assert.rejects(
      parsePgo('-fail=yes', 'service:x', 'out.pgo'),
      (err: unknown) => err instanceof CliError && /-fail is a switch/.test(err.message),
    );
  });

  it('keeps query terms that start with a dash as queries, before or after the flags', async () => {
    const p = await parsePgo('-json', 'service:x', '-env:staging', '-version:(1 OR 2) service:y', 'out.pgo');
    assert.deepEqual(p.operands, ['service:x', '-env:staging', '-version:(1 OR 2) service:y', 'out.pgo']);
    assert.equal(p.flags.json, true);
    // A dash-first query as the first operand, and a lone "-".
    const q = await parsePgo('-env:staging service:x', '-', '-fail');
    assert.deepEqual(q.operands, ['-env:staging service:x', '-']);
    assert.equal(q.flags.fail, true);
  });

  it("takes a flag's value as it is, even one that looks like a flag or a query", async () => {
    const p = await parsePgo('--no-inline', '-json', '-server', '-env:x', 'service:x', 'out.pgo');
    assert.deepEqual(p.flags.inline, ['-json']);
    assert.equal(p.flags.server, '-env:x');
    assert.equal(p.flags.json, undefined);
  });

  it('ends the flags at --, as Go does', async () => {
    const p = await parsePgo('-fail', '--', '-json', 'out.pgo');
    assert.deepEqual(p.operands, ['-json', 'out.pgo']);
    assert.equal(p.flags.json, undefined);
  });

  it('leaves unknown flags to commander, which names them', async () => {
    await assert.rejects(parsePgo('-frm', '24h', 'service:x', 'out.pgo'), /unknown option '-frm'/);
    await assert.rejects(parsePgo('--profile=3', 'service:x', 'out.pgo'), /unknown option '--profile=3'/);
  });

  it('rewrites only the pgo command', () => {
    const program = buildProgram();
    assert.deepEqual(withGoStyleFlags(program, ['services', '-json']), ['services', '-json']);
    assert.deepEqual(withGoStyleFlags(program, ['merge', '-o', 'x', 'a.pprof']), ['merge', '-o', 'x', 'a.pprof']);
    const pgo = program.commands.find((c) => c.name() === 'pgo') as Command;
    assert.deepEqual(goStyleArgs(pgo, ['-h']), ['--help']);
  });
});
