import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Files of a throwaway certificate authority and server certificates it signed, in a test's directory. */
export interface TestCa {
  /** PEM of the CA certificate: what clients trust. */
  caCert: string;
  caKey: string;
  dir: string;
}

export interface TestServerCert {
  cert: string;
  key: string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** For tests: makes a CA (EC P-256, one day) in `dir` with openssl. */
export function makeTestCa(dir: string, name = 'Hotpath Test CA'): TestCa {
  const caKey = join(dir, `${name.replace(/\W/g, '_')}.key`);
  const caCert = join(dir, `${name.replace(/\W/g, '_')}.pem`);
  openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', caKey);
  openssl(
    dir,
    ...['req', '-x509', '-new', '-key', caKey, '-out', caCert, '-days', '1', '-subj', `/CN=${name}`],
    ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
  );
  return { caCert, caKey, dir };
}

/**
 * For tests: a server certificate signed by `ca` for `names` (DNS names, and 127.0.0.1 as an IP
 * address), written as `<file>.pem` and `<file>.key` in the CA's directory.
 */
export function issueServerCert(ca: TestCa, file: string, names: readonly string[] = ['localhost']): TestServerCert {
  const key = join(ca.dir, `${file}.key`);
  const csr = join(ca.dir, `${file}.csr`);
  const cert = join(ca.dir, `${file}.pem`);
  const ext = join(ca.dir, `${file}.ext`);
  writeFileSync(
    ext,
    `subjectAltName=${[...names.map((n) => `DNS:${n}`), 'IP:127.0.0.1'].join(',')}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
  );
  openssl(ca.dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key);
  openssl(ca.dir, 'req', '-new', '-key', key, '-out', csr, '-subj', `/CN=${names[0] ?? file}`);
  openssl(
    ca.dir,
    ...['x509', '-req', '-in', csr, '-CA', ca.caCert, '-CAkey', ca.caKey, '-CAcreateserial', '-out', cert],
    ...['-days', '1', '-extfile', ext],
  );
  return { cert, key };
}
