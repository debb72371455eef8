import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { writeZip, ZipLimitError } from './zip.js';

// The archives are checked by Info-ZIP's unzip, a reader independent of ours; Go's archive/zip
// reads them in e2e/datadog-pgo.test.ts.

const dir = mkdtempSync(join(tmpdir(), 'hotpath-zip-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// unzip decodes UTF-8 names (flag bit 11) only under a UTF-8 locale.
const UTF8 = { ...process.env, LC_ALL: 'C.UTF-8', TZ: 'UTC' };

function save(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe('writeZip', () => {
  const when = new Date(Date.UTC(2026, 11, 1, 18, 30, 44));
  const entries = [
    { name: '0f3a-cpu', data: randomBytes(70_000), modified: when },
    { name: 'empty', data: new Uint8Array(0), modified: when },
    { name: 'dir/naïve.pprof', data: Buffer.from('hello zip'), modified: new Date(0) },
  ];

  it('writes an archive that unzip tests clean, with each file byte for byte', () => {
    const path = save('three.zip', writeZip(entries));
    const test = execFileSync('unzip', ['-t', path], { encoding: 'utf8', env: UTF8 });
    assert.match(test, /No errors detected/);
    for (const e of entries) {
      const back = execFileSync('unzip', ['-p', path, e.name], { maxBuffer: 1 << 20, env: UTF8 });
      assert.deepEqual(back, Buffer.from(e.data), e.name);
    }
  });

  it('records names in order, uncompressed sizes and the modification time (UTC, 2-second steps)', () => {
    const path = save('info.zip', writeZip(entries));
    const listing = execFileSync('zipinfo', ['-T', path], { encoding: 'utf8', env: UTF8 });
    const lines = listing.split('\n').filter((l) => /^-/.test(l));
    assert.deepEqual(
      lines.map((l) => l.trim().split(/\s+/).at(-1)),
      entries.map((e) => e.name),
    );
    assert.match(lines[0], /\b70000\b.*\bstor\b.*20261201\.183044 0f3a-cpu$/);
    // Before 1980 zip cannot say: clamped to its first day.
    assert.match(lines[2], /19800101\.000000/);
  });

  it('writes an empty archive that unzip accepts', () => {
    const bytes = writeZip([]);
    assert.equal(bytes.length, 22);
    const path = save('empty.zip', bytes);
    // unzip reads it and warns that it holds nothing (exit status 1: a warning).
    const r = spawnSync('unzip', ['-l', path], { encoding: 'utf8', env: UTF8 });
    const out = `${r.stdout}${r.stderr}`;
    assert.match(out, /zipfile is empty/);
  });

  it('refuses an archive over the size limit before building it, naming both sizes', () => {
    assert.throws(
      () => writeZip(entries, 1000),
      (err: unknown) => err instanceof ZipLimitError && /over the limit of 1000/.test(err.message),
    );
    // The exact size passes.
    const size = writeZip(entries).length;
    assert.equal(writeZip(entries, size).length, size);
    assert.throws(() => writeZip(entries, size - 1), ZipLimitError);
  });

  it('refuses names that would escape the extraction directory, and duplicates', () => {
    for (const name of ['', '/etc/passwd', '../up', 'a/../../b', 'a\\b', 'nul\0byte']) {
      assert.throws(() => writeZip([{ name, data: Buffer.from('x'), modified: when }]), ZipLimitError, JSON.stringify(name));
    }
    assert.throws(
      () =>
        writeZip([
          { name: 'a', data: Buffer.from('x'), modified: when },
          { name: 'a', data: Buffer.from('y'), modified: when },
        ]),
      /appears twice/,
    );
  });
});
