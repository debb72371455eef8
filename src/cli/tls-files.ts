import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { CliError } from './errors.js';

/** A certificate chain and its key, read and checked, ready for https.createServer or setSecureContext. */
export interface TlsPair {
  cert: Buffer;
  key: Buffer;
  /** The leaf certificate's subject, names and expiry, for the log. */
  subject: string;
  names: string;
  validTo: string;
}

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CliError(`${flag} ${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * Reads the PEM certificate chain `certFile` and private key `keyFile` and checks that they make
 * a TLS context: the certificate parses, the key parses (unencrypted) and belongs to it. Throws
 * CliError naming the file and what is wrong, so `hotpath serve` refuses to start (and a reload
 * keeps the old pair) instead of failing each handshake.
 */
export function readTlsPair(certFile: string, keyFile: string): TlsPair {
  const cert = readPem(certFile, '--tls-cert');
  const key = readPem(keyFile, '--tls-key');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    throw new CliError(`--tls-cert ${certFile}: not a PEM certificate: ${(err as Error).message}`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    const e = err as Error & { code?: string };
    const why = /key values mismatch/i.test(e.message)
      ? 'the key does not belong to the certificate'
      : /PEM|no start line|bad decrypt|DECODER|unsupported/i.test(e.message)
        ? `not an unencrypted PEM private key (${e.message})`
        : e.message;
    throw new CliError(`--tls-key ${keyFile} with --tls-cert ${certFile}: ${why}`);
  }
  return { cert, key, subject: leaf.subject.replace(/\n/g, ', '), names: leaf.subjectAltName ?? '', validTo: leaf.validTo };
}
