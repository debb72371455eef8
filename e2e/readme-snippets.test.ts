import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ProfileJson } from '../src/api/types.js';
import { runOk } from './support/go.js';
import { fixture, hotpathBin, repoRoot } from './support/paths.js';
import { type RunningServer, startServer } from './support/server.js';
import { buildGoProgram, fillPlaceholders, markedSnippets, type Snippet, startProgram, waitFor } from './support/snippets.js';

// The client snippets of README.md and of the first-start banner, compiled and run as a reader
// would run them (placeholders filled in) against a real `hotpath serve` with a real key, until
// their profile is found through the API.

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const snippets = markedSnippets(readme);
const work = mkdtempSync(join(tmpdir(), 'hotpath-readme-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** How long a program may take to start its profiler, to stop (uploading on the way), and a profile to be found. */
const START_MS = 60_000;
const STOP_MS = 60_000;
const ARRIVE_MS = 30_000;
/** How long a shell snippet may take; `go build` with a new default.pgo rebuilds the standard library with it. */
const SHELL_MS = 600_000;

function snippet(name: string): Snippet {
  const s = snippets.find((x) => x.name === name);
  assert.ok(s, `README.md has a snippet marked ${name}`);
  return s;
}

async function search(server: RunningServer, query: string): Promise<ProfileJson[]> {
  const res = await fetch(`${server.url}/api/v1/profiles?query=${encodeURIComponent(query)}&from=now-1h`, {
    headers: { 'DD-APPLICATION-KEY': server.appKey },
  });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { profiles: ProfileJson[] }).profiles;
}

/** Waits until `query` finds at least one profile and returns them. */
function arrived(server: RunningServer, query: string): Promise<ProfileJson[]> {
  return waitFor(`a profile matching ${query}`, ARRIVE_MS, async () => {
    const found = await search(server, query);
    return found.length > 0 ? found : undefined;
  });
}

/** How many requests the server refused for want of a valid key. */
async function unauthenticated(server: RunningServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { 'DD-APPLICATION-KEY': server.appKey } })).text();
  return Number(/hotpath_rejections_total\{reason="unauthenticated"\} (\d+)/.exec(text)?.[1] ?? 0);
}

/**
 * Runs a Go program the way a service runs: started, waited for until it says its profiler runs,
 * then stopped with SIGTERM (its graceful shutdown stops the profiler, which sends the profile in
 * progress). Returns its output.
 */
async function runService(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const program = startProgram(cmd, args, { env });
  await program.waitForOutput('profiling started', START_MS);
  const code = await program.stop(STOP_MS);
  assert.equal(code, 0, program.output());
  return program.output();
}

describe('README snippets', () => {
  it('every Go and hotpath shell block of the README is a marked snippet (so this test runs it)', () => {
    const goBlocks = readme.match(/```go\n/g) ?? [];
    assert.equal(snippets.filter((s) => s.lang === 'go').length, goBlocks.length);
    assert.deepEqual(
      snippets.map((s) => s.name),
      ['ddtrace-env', 'ddtrace', 'pyroscope', 'upload', 'pgo'],
    );
  });

  it('no pyroscope-go configuration sets BasicAuthPassword without BasicAuthUser (pyroscope-go would send no key)', () => {
    for (const block of readme.split('pyroscope.Config{').slice(1)) {
      const config = block.slice(0, block.indexOf('}'));
      if (config.includes('BasicAuthPassword')) assert.match(config, /BasicAuthUser:\s+"[^"]+"/);
    }
  });

  describe('against a real server', () => {
    let server: RunningServer;
    before(async () => {
      server = await startServer();
    });
    after(async () => {
      assert.equal(await server.stop(), 0);
    });

    it('dd-trace-go: the environment snippet and the service snippet send a profile with the configured tags', async () => {
      const bin = buildGoProgram('ddtrace', snippet('ddtrace').code);
      const env = fillPlaceholders(snippet('ddtrace-env').code, { url: server.url, apiKey: server.apiKey });
      // The environment snippet as the shell that starts the service reads it.
      await runService('bash', ['-c', `set -eu\n${env}\nexec "$0"`, bin], {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DD_PROFILING_FLUSH_ON_EXIT: 'true',
      });
      const [p] = await arrived(server, 'service:my-service env:prod version:1.2.3');
      assert.equal(p.pgo, false);
      assert.ok(p.tags.includes('runtime:go'), p.tags.join(' '));
      assert.ok(p.attachments.some((a) => a.name === 'cpu.pprof'));
    });

    it('pyroscope-go: the snippet authenticates (BasicAuthUser and BasicAuthPassword) and its profile arrives', async () => {
      const refusedBefore = await unauthenticated(server);
      const source = fillPlaceholders(snippet('pyroscope').code, { url: server.url, apiKey: server.apiKey });
      const bin = buildGoProgram('pyroscope', source);
      const output = await runService(bin, [], { ...process.env, HOTPATH_API_KEY: server.apiKey });
      assert.doesNotMatch(output, /\[ERROR\]/, 'pyroscope-go logged no failed upload');
      const found = await arrived(server, 'service:my-service env:prod -version:1.2.3');
      assert.ok(found.every((p) => p.tags.includes('runtime:go')));
      assert.equal(await unauthenticated(server), refusedBefore, 'no upload was refused');
    });

    it('pyroscope-go without BasicAuthUser (the old README) is refused: what the snippet must not do', async () => {
      const refusedBefore = await unauthenticated(server);
      const broken = fillPlaceholders(snippet('pyroscope').code, { url: server.url, apiKey: server.apiKey })
        .replace(/\n\s*BasicAuthUser:[^\n]*/, '')
        .replace('"my-service"', '"my-service-no-user"');
      const bin = buildGoProgram('pyroscope-no-user', broken);
      const output = await runService(bin, [], { ...process.env, HOTPATH_API_KEY: server.apiKey });
      assert.match(output, /\[ERROR\].*401/);
      await waitFor('the refusal to be counted', ARRIVE_MS, async () =>
        (await unauthenticated(server)) > refusedBefore ? true : undefined,
      );
      assert.equal((await search(server, 'service:my-service-no-user')).length, 0);
    });

    it('files, then CI: the upload snippet stores the profile, the pgo snippet writes default.pgo from it and go build uses it', async () => {
      const dir = join(work, 'ci');
      const bin = join(dir, 'bin');
      mkdirSync(join(dir, 'cmd', 'api'), { recursive: true });
      mkdirSync(bin);
      copyFileSync(fixture('cpu-small-1.pprof'), join(dir, 'cpu.pprof'));
      writeFileSync(join(dir, 'go.mod'), 'module example.com/shop\n\ngo 1.21\n');
      writeFileSync(join(dir, 'cmd', 'api', 'main.go'), 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("api") }\n');
      symlinkSync(hotpathBin, join(bin, 'hotpath'));
      // `npx hotpath` runs the hotpath that npm installed; here, the one of this checkout.
      writeFileSync(join(bin, 'npx'), '#!/bin/sh\n[ "$1" = --yes ] && shift\nexec "$@"\n', { mode: 0o755 });
      const target = { url: server.url, apiKey: server.apiKey, appKey: server.appKey };
      const env = { PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME, GOFLAGS: process.env.GOFLAGS ?? '' };
      const shell = async (name: string) => {
        const program = startProgram('bash', ['-c', `set -eu\n${fillPlaceholders(snippet(name).code, target)}`], { cwd: dir, env });
        assert.equal(await program.exit(SHELL_MS), 0, `${name} snippet:\n${program.output()}`);
        return program.output();
      };

      await shell('upload');
      const [p] = await arrived(server, 'service:api env:prod');
      assert.equal(p.service, 'api');

      const output = await shell('pgo');
      assert.match(output, /INFO wrote PGO file path=\.\/cmd\/api\/default\.pgo/);
      assert.ok(readFileSync(join(dir, 'cmd', 'api', 'default.pgo')).length > 0);
      // go build read the profile: the binary records -pgo in its build settings.
      assert.match(runOk('go', ['version', '-m', join(dir, 'api')]), /-pgo=\S*cmd\/api\/default\.pgo/);
    });
  });
});
