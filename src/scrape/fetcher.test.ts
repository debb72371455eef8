import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FetchError, type FetchOptions, fetchBody } from './fetcher.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('fetchBody', () => {
  let server: Server;
  let base: string;
  const routes = new Map<string, Handler>();

  before(async () => {
    server = createServer((req, res) => {
      const handler = routes.get((req.url ?? '').split('?')[0]);
      if (handler) handler(req, res);
      else res.writeHead(404).end('404 page not found\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const options = (over: Partial<FetchOptions> = {}): FetchOptions => ({
    timeoutMs: 10_000,
    maxBytes: 1024,
    headers: {},
    tls: null,
    signal: new AbortController().signal,
    ...over,
  });
  const failure = async (path: string, over: Partial<FetchOptions> = {}): Promise<FetchError> => {
    try {
      await fetchBody(new URL(path, base), options(over));
    } catch (err) {
      assert.ok(err instanceof FetchError, String(err));
      return err;
    }
    assert.fail('the fetch succeeded');
  };

  it('returns the body of a 200 and sends the headers given', async () => {
    routes.set('/ok', (req, res) => res.end(`auth=${req.headers.authorization}`));
    const body = await fetchBody(new URL('/ok', base), options({ headers: { authorization: 'Bearer t' } }));
    assert.equal(body.toString(), 'auth=Bearer t');
  });

  it("tells net/http/pprof's 'CPU profiling already in use' apart from other errors", async () => {
    // What Go's net/http/pprof answers while another CPU profile runs (its serveError).
    routes.set('/debug/pprof/profile', (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', 'x-go-pprof': '1' });
      res.end('Could not enable CPU profiling: cpu profiling already in use\n');
    });
    const busy = await failure('/debug/pprof/profile?seconds=1');
    assert.equal(busy.reason, 'profiler_busy');
    assert.match(busy.message, /already being CPU-profiled .*"Could not enable CPU profiling: cpu profiling already in use"/);

    routes.set('/boom', (_req, res) => res.writeHead(500).end('something else'));
    const other = await failure('/boom');
    assert.equal(other.reason, 'http_status');
    assert.equal(other.status, 500);
    assert.match(other.message, /answered 500 "something else"/);
  });

  it('explains a 404 and a 401', async () => {
    assert.match((await failure('/nothing')).message, /answered 404 "404 page not found".*import net\/http\/pprof.*path_prefix/);
    routes.set('/secret', (_req, res) => res.writeHead(401).end());
    assert.match((await failure('/secret')).message, /answered 401 \(check the job's basic_auth/);
  });

  it('refuses a body over the limit, by Content-Length before reading and while streaming', async () => {
    routes.set('/declared', (_req, res) => {
      res.writeHead(200, { 'content-length': 5000 });
      res.end(Buffer.alloc(5000));
    });
    const declared = await failure('/declared');
    assert.equal(declared.reason, 'too_large');
    assert.match(declared.message, /answered 5000 bytes, more than body_size_limit \(1024 bytes\)/);
    routes.set('/chunked', (_req, res) => {
      res.writeHead(200);
      res.write(Buffer.alloc(1000));
      res.write(Buffer.alloc(1000));
      // Never ends: the fetch must stop reading on its own.
    });
    const streamed = await failure('/chunked');
    assert.equal(streamed.reason, 'too_large');
    assert.match(streamed.message, /more than body_size_limit/);
  });

  it('gives up on a target that never answers, and closes the connection', async () => {
    routes.set('/hang', () => undefined);
    const err = await failure('/hang', { timeoutMs: 200 });
    assert.equal(err.reason, 'timeout');
    assert.match(err.message, /did not answer within 0\.2s/);
  });

  it('stops at once when aborted, before or during the request', async () => {
    const stopped = new AbortController();
    stopped.abort();
    assert.equal((await failure('/hang', { signal: stopped.signal })).reason, 'aborted');
    const during = new AbortController();
    routes.set('/hang2', () => during.abort());
    assert.equal((await failure('/hang2', { signal: during.signal })).reason, 'aborted');
  });

  it('names a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    try {
      await fetchBody(new URL(`http://127.0.0.1:${port}/debug/pprof/profile`), options());
      assert.fail('connected');
    } catch (err) {
      assert.ok(err instanceof FetchError);
      assert.equal(err.reason, 'connection');
      assert.match(err.message, new RegExp(`connection refused by 127\\.0\\.0\\.1:${port}: nothing listens there`));
    }
  });
});
