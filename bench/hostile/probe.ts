// Child process of bench/hostile/run.ts: asks GET /healthz one request at a time for the given
// number of seconds and prints every latency (ms) as JSON. A process of its own so that the
// bench's bomb sender never delays the measurement on the client side.
import { request } from 'node:http';

const [url, secondsText] = process.argv.slice(2);
const seconds = Number(secondsText);
const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 1 });

function once(): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(`${url}/healthz`, { agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('healthz took over 10 s')));
    req.on('error', reject);
    req.end();
  });
}

const latencies: number[] = [];
let errors = 0;
const deadline = performance.now() + seconds * 1000;
while (performance.now() < deadline) {
  try {
    latencies.push(await once());
  } catch {
    errors++;
  }
  // About 50 probes a second: a health checker's pace, not a load of its own.
  await new Promise((r) => setTimeout(r, 20));
}
agent.destroy();
process.stdout.write(JSON.stringify({ latencies, errors }));
