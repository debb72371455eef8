import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `npm run build` puts the web UI: dist/web, beside this module's dist/src/server. */
export const DEFAULT_UI_DIR: string = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/**
 * The page may load only its own modules and styles and talk only to this server: a function
 * name from a profile that slipped into markup could not run script or send data elsewhere.
 * Inline style attributes stay allowed (the UI sets widths and swatches with them).
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const MISSING_BUILD = `<!doctype html><meta charset="utf-8"><title>Hotpath</title>
<p>The web UI has not been built. Run <code>npm run build</code> in the Hotpath checkout and reload.
The API under <code>/api/v1/</code> works without it.</p>`;

/**
 * Serves the web UI: `/` is its page, `/ui/<file>` its modules and styles, read from `dir`
 * (dist/web). Files are read on request and cached in memory (the build does not change under a
 * running server); only names inside `dir` with a known type are served, so no path escapes it.
 */
export function registerStaticUi(app: FastifyInstance, dir: string = DEFAULT_UI_DIR): void {
  const root = normalize(dir + sep);
  const cache = new Map<string, Buffer>();
  const send = async (reply: FastifyReply, relative: string): Promise<FastifyReply> => {
    const type = TYPES[extname(relative)];
    const path = normalize(join(root, relative));
    if (type === undefined || !path.startsWith(root)) {
      return reply
        .code(404)
        .type('application/json')
        .send({ error: `no UI file ${relative}` });
    }
    let bytes = cache.get(path);
    if (bytes === undefined) {
      try {
        bytes = await readFile(path);
      } catch {
        if (relative === 'index.html') return reply.code(503).type('text/html; charset=utf-8').send(MISSING_BUILD);
        return reply
          .code(404)
          .type('application/json')
          .send({ error: `no UI file ${relative}` });
      }
      cache.set(path, bytes);
    }
    // The page is small and names the modules: always revalidate it; modules are cached briefly.
    reply.header('cache-control', relative === 'index.html' ? 'no-cache' : 'public, max-age=300');
    reply.header('x-content-type-options', 'nosniff');
    if (relative === 'index.html') reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    return reply.type(type).send(bytes);
  };
  const access = { config: { access: 'public' } } as const;
  app.get('/', access, (_req, reply) => send(reply, 'index.html'));
  // The router has already percent-decoded the wildcard once; decoding again would turn "%25"
  // into a URIError (a 500) and "%252e%252e" into "..".
  app.get('/ui/*', access, (req, reply) => send(reply, (req.params as { '*': string })['*']));
}
