import type { FastifyPluginAsync } from 'fastify';
import type { CreatedKeyJson, KeyJson, KeyListJson } from '../../api/types.js';
import { APP_SCOPES, type AppScope, type KeyInfo } from '../../store/key-scopes.js';
import { HttpError } from '../http-error.js';
import type { RouteContext } from './context.js';

const ADMIN = { config: { access: 'admin' } } as const;

/** Longest key name accepted; names are for people reading `keys list`. */
const MAX_KEY_NAME = 200;

const CREATE_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['kind'],
  properties: {
    kind: { type: 'string', enum: ['api', 'app'] },
    name: { type: 'string', maxLength: MAX_KEY_NAME },
    scopes: { type: 'array', maxItems: APP_SCOPES.length, items: { type: 'string', enum: [...APP_SCOPES] } },
  },
} as const;

/**
 * Keys over HTTP, for admins: list, create, revoke. They act on the store's key store, so on a
 * shared PostgreSQL index a key revoked through one replica is refused by every replica (within
 * REVOCATION_DELAY_MS). Same rules as `hotpath keys`.
 */
export const keyRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  // This plugin's one body is JSON (the app reads every other body as bytes).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    try {
      const parsed: unknown = JSON.parse(body === '' ? '{}' : (body as string));
      // The schema validator would drop unknown fields silently; a typo ("scope") must not give a key other scopes.
      const unknown =
        parsed !== null && typeof parsed === 'object' ? Object.keys(parsed).filter((k) => !(k in CREATE_BODY.properties)) : [];
      if (unknown.length > 0)
        throw new Error(`unknown field ${JSON.stringify(unknown[0])} (fields: ${Object.keys(CREATE_BODY.properties).join(', ')})`);
      done(null, parsed);
    } catch (err) {
      done(new HttpError(400, 'bad_request', `bad key request: ${(err as Error).message}`), undefined);
    }
  });
  app.get('/api/v1/keys', ADMIN, async (): Promise<KeyListJson> => ({ keys: (await ctx.keys.list()).map(keyJson) }));

  app.post<{ Body: { kind: 'api' | 'app'; name?: string; scopes?: AppScope[] } }>(
    '/api/v1/keys',
    { ...ADMIN, bodyLimit: 4096, schema: { body: CREATE_BODY } },
    async (req, reply): Promise<CreatedKeyJson> => {
      const { kind, name = '', scopes = [] } = req.body;
      if (kind === 'api' && scopes.length > 0)
        throw new HttpError(400, 'bad_request', 'API keys have no scopes: they can only send profiles');
      const created = await ctx.keys.create(kind, name, kind === 'app' && scopes.length === 0 ? ['profiles_read', 'pgo_read'] : scopes);
      reply.code(201);
      return { key: keyJson(created.key), secret: created.secret };
    },
  );

  app.delete<{ Params: { id: string } }>('/api/v1/keys/:id', ADMIN, async (req, reply) => {
    const { id } = req.params;
    if (!/^[0-9a-f]{12}$/.test(id))
      throw new HttpError(
        400,
        'bad_request',
        `key id must be 12 hex digits, as GET /api/v1/keys shows, got ${JSON.stringify(id.slice(0, 40))}`,
      );
    if (!(await ctx.keys.revoke(id))) throw new HttpError(404, 'not_found', `no live key with id ${id}`);
    reply.code(204);
  });
};

function keyJson(k: KeyInfo): KeyJson {
  return {
    id: k.id,
    kind: k.kind,
    name: k.name,
    scopes: k.scopes,
    createdAt: new Date(k.createdAt).toISOString(),
    revokedAt: k.revokedAt === null ? null : new Date(k.revokedAt).toISOString(),
  };
}
