import { connect, type Socket } from 'node:net';

/** A raw TCP client of an HTTP server: what it was sent back, and when the server hung up. */
export interface RawClient {
  socket: Socket;
  /** Everything received so far, as latin1 text. */
  received: () => string;
  /** Resolves with everything received once the server closes the connection; rejects after `boundMs`. */
  closed: (boundMs: number) => Promise<string>;
  /** Resolves once what was received matches `pattern` (checked on each arrival); rejects after `boundMs` or on close. */
  receivedMatch: (pattern: RegExp, boundMs: number) => Promise<string>;
  /** Writes `chunk` every `everyMs` until the connection closes (a client that trickles bytes). */
  trickle: (chunk: string, everyMs: number) => void;
}

/** Opens a TCP connection to the host and port of `url` and resolves once it is connected. */
export function rawClient(url: string): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let data = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (c: Buffer) => {
      data += c.toString('latin1');
    });
    // Writes after the server hung up fail (EPIPE, ECONNRESET); the close is what the tests look at.
    socket.on('error', () => undefined);
    const done = new Promise<string>((r) =>
      socket.once('close', () => {
        clearInterval(timer);
        r(data);
      }),
    );
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => data,
        closed: (boundMs) =>
          new Promise<string>((res, rej) => {
            const bound = setTimeout(() => {
              socket.destroy();
              rej(new Error(`the server kept the connection open for more than ${boundMs} ms; received: ${JSON.stringify(data)}`));
            }, boundMs);
            void done.then((d) => {
              clearTimeout(bound);
              res(d);
            });
          }),
        receivedMatch: (pattern, boundMs) =>
          new Promise<string>((res, rej) => {
            const check = () => {
              if (!pattern.test(data)) return;
              stop();
              res(data);
            };
            const onClose = () => {
              stop();
              rej(new Error(`connection closed before ${pattern} arrived; received: ${JSON.stringify(data)}`));
            };
            const bound = setTimeout(() => {
              stop();
              rej(new Error(`${pattern} did not arrive within ${boundMs} ms; received: ${JSON.stringify(data)}`));
            }, boundMs);
            const stop = () => {
              clearTimeout(bound);
              socket.off('data', onData);
              socket.off('close', onClose);
            };
            // Registered after the collecting listener, so `data` already holds the new bytes.
            const onData = () => check();
            socket.on('data', onData);
            socket.once('close', onClose);
            check();
          }),
        trickle: (chunk, everyMs) => {
          timer = setInterval(() => {
            if (!socket.destroyed) socket.write(chunk);
          }, everyMs);
        },
      }),
    );
    socket.once('error', reject);
  });
}

/** Resolves with `/proc/<pid>/status` field `field` (VmRSS, VmHWM) in bytes. */
export async function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}
