import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { injectFetch, openTestApp, type TestApp } from '../server/testing.js';
import { fixture } from '../testing/fixtures.js';
import { hotpathBin } from '../testing/hotpath-bin.js';
import { agoFromNow } from './durations.js';
import { CliError } from './errors.js';

// `hotpath pgo --from` against a real server: the window the user typed is the one the server
// hears and the one every message names.
const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'hotpath-pgo-window-'));

async function pgo(server: string, key: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [hotpathBin, 'pgo', '--server', server, '--app-key', key, ...args], {
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('hotpath pgo --from', () => {
  let t: TestApp;
  let url: string;
  before(async () => {
    t = await openTestApp();
    const res = await injectFetch(t.app, '/api/v1/profiles?tags=service:shop,env:prod', {
      method: 'POST',
      body: readFileSync(fixture('cpu-small-1.pprof')),
      headers: { authorization: `Bearer ${t.keys.api}` },
    });
    assert.equal(res.status, 201);
    url = await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await t.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('sends and reports the window as the user wrote it (now-72h, not now-259200s)', async () => {
    const r = await pgo(url, t.keys.pgoRead, ['--fail', '-v', '--from', '72h', 'service:nothing-sends-this', join(work, 'none.pgo')]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /DEBUG requesting .*"from":"now-72h"/);
    assert.match(r.stdout, /ERROR no CPU profiles match .* between now-72h and now/);
    assert.doesNotMatch(r.stdout + r.stderr, /259200/);
  });

  it('a fractional or week-long window is echoed too, and still selects the profile', async () => {
    for (const from of ['1.5h', '2w']) {
      const dest = join(work, `shop-${from}.pgo`);
      const r = await pgo(url, t.keys.pgoRead, ['--fail', '-v', '--from', from, 'service:shop', dest]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.ok(r.stdout.includes(`"from":"now-${from}"`), r.stdout);
      assert.match(r.stdout, /INFO extracted profile service=shop/);
      assert.ok(readFileSync(dest).length > 0);
    }
  });

  it('a malformed --from is a usage error naming the flag, before any request', async () => {
    const r = await pgo(url, t.keys.pgoRead, ['--from', '72 hours', 'service:shop', join(work, 'bad.pgo')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^hotpath: --from must be a duration such as 90s, 15m, 72h, 1h30m or 7d, got "72 hours"\n$/);
  });
});

describe('agoFromNow', () => {
  it('keeps the text and refuses what is not a duration', () => {
    assert.equal(agoFromNow('72h', '--from'), 'now-72h');
    assert.equal(agoFromNow(' 30m ', '--from'), 'now-30m');
    assert.throws(() => agoFromNow('-1h', '--from'), CliError);
    assert.throws(() => agoFromNow('now-1h', '--from'), /--from must be a duration/);
  });
});
