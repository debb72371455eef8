import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/**
 * Returns the server's logger: JSON lines (pino) for machines, or, when stdout is a terminal,
 * the same records as readable lines ("12:00:00.000 INFO message key=value").
 */
export function createLogger(level = 'info', pretty = process.stdout.isTTY === true): Logger {
  if (!pretty) return pino({ level });
  const readable = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        try {
          const { time, level: lvl, msg, pid: _pid, hostname: _host, ...rest } = JSON.parse(line) as Record<string, unknown>;
          const extra = Object.entries(rest)
            .map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
            .join(' ');
          const clock = new Date(Number(time)).toISOString().slice(11, 23);
          process.stdout.write(`${clock} ${LEVELS[Number(lvl)] ?? lvl} ${msg ?? ''}${extra ? ` ${extra}` : ''}\n`);
        } catch {
          process.stdout.write(`${line}\n`);
        }
      }
      done();
    },
  });
  return pino({ level }, readable);
}
