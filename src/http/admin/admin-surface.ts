import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyVerifier } from '../../auth/api-key-verifier.js';
import type { AuthStrategy } from '../../auth/auth-strategy.js';
import { targetOf, type OriginPolicy } from '../../auth/origin-policy.js';
import { PERMISSIONS } from '../../auth/permissions.js';
import { GatewayError, isGatewayError } from '../../protocol/errors.js';
import { assertPermitted, routePermission, verifyCredential } from '../credential-guard.js';
import { forceLogoutRoute, type InternalOptions } from '../internal/internal-surface.js';
import { historyRoutes, type HistoryRoutesOptions } from '../v1/history-routes.js';
import { presenceRoutes, type PresenceRoutesOptions } from '../v1/presence-routes.js';
import { publishRoutes, type PublishRoutesOptions } from '../v1/publish-routes.js';
import type { AdminAsset } from './admin-assets.js';
import type { AdminFeed } from './admin-feed.js';
import type { AdminSession, AdminSessions } from './admin-sessions.js';
import { sessionIdOf, setSessionCookie } from './session-cookie.js';

const SignInBody = Type.Object({ credential: Type.String({ minLength: 1, maxLength: 8192 }) }, { additionalProperties: false });
type SignInBody = Static<typeof SignInBody>;

/** Assets the sign-in page needs: served without a session. Every other asset needs one. */
const PUBLIC_ASSETS = new Set(['admin.css', 'sign-in.js', 'icon.svg']);

/** Methods that change something: their requests must come from the dashboard's own origin. */
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Sent with every answer under `/admin`: scripts, styles and connections from the gateway only, no
 * framing, no referrer, nothing cached.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** What the dashboard needs: the credentials `/v1` accepts, its sessions and feed, its files, and what the reused `/v1` routes need. */
export interface AdminOptions extends PresenceRoutesOptions, HistoryRoutesOptions, PublishRoutesOptions, Pick<InternalOptions, 'sessionControl'> {
  readonly apiKeys: ApiKeyVerifier;
  /** The auth service's access tokens (admin permission to sign in); `undefined` when it is off. */
  readonly userTokens: AuthStrategy | undefined;
  readonly originPolicy: OriginPolicy;
  readonly publisher: PublishRoutesOptions['publisher'];
  readonly adminSessions: AdminSessions;
  readonly feed: AdminFeed;
  readonly assets: ReadonlyMap<string, AdminAsset>;
  readonly sessionControl: PresenceRoutesOptions['sessionControl'] & InternalOptions['sessionControl'];
}

/**
 * The admin dashboard under `/admin` (docs/admin.md): its pages and files, and under `/admin/api` the
 * sign-in (`POST`/`DELETE /session`), the live feed (`GET /feed`, Server-Sent Events) and the operations
 * it offers — the very route modules of `/v1` (users, rooms, presence, history, publish) and of the
 * internal routes (force-logout), behind the session cookie instead of a key.
 */
export async function adminSurface(app: FastifyInstance, options: AdminOptions): Promise<void> {
  const { adminSessions: sessions, assets } = options;
  // The dashboard's pages and its cookie-session API are its own, not the public API: kept out of /openapi.json.
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true };
  });
  const page = (name: string): AdminAsset => {
    const asset = assets.get(name);
    if (asset === undefined) throw new Error(`admin-ui/${name} is missing`);
    return asset;
  };
  const [dashboard, signIn] = [page('index.html'), page('sign-in.html')];
  const sessionOf = (request: FastifyRequest): AdminSession | undefined => sessions.get(sessionIdOf(request));

  app.addHook('onRequest', async (_request, reply) => {
    void reply.headers(SECURITY_HEADERS);
  });

  app.get('/', async (request, reply) => (sessionOf(request) === undefined ? reply.redirect('/admin/sign-in', 303) : send(reply, dashboard)));
  app.get('/sign-in', async (request, reply) => (sessionOf(request) === undefined ? send(reply, signIn) : reply.redirect('/admin', 303)));
  app.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
    const { name } = request.params;
    const asset = name.endsWith('.html') ? undefined : assets.get(name);
    if (asset === undefined) throw new GatewayError('NOT_FOUND');
    if (!PUBLIC_ASSETS.has(name) && sessionOf(request) === undefined) throw new GatewayError('ADMIN_SIGN_IN_REQUIRED');
    return send(reply, asset);
  });

  await app.register(async (api) => {
    // SameSite=Strict keeps other sites' pages from sending the cookie; this also refuses any
    // state-changing request whose Origin is not the dashboard's own, whatever CORS_ORIGIN allows.
    api.addHook('onRequest', async (request) => {
      if (!UNSAFE_METHODS.has(request.method)) return;
      const { origin } = request.headers;
      if (origin === undefined || !options.originPolicy.isOwnOrigin(origin, targetOf(request.raw))) {
        throw new GatewayError('ORIGIN_FORBIDDEN', "Dashboard requests that change something must come from the dashboard's own origin");
      }
    });
    await signInRoutes(api, options);
    await api.register(async (guarded) => {
      guarded.addHook('onRequest', async (request) => {
        const session = sessionOf(request);
        if (session === undefined) throw new GatewayError('ADMIN_SIGN_IN_REQUIRED');
        assertPermitted(session.holder, routePermission(request));
      });
      guarded.get('/session', { config: { permission: PERMISSIONS.admin } }, async (request) => describe(sessionOf(request)));
      guarded.get('/feed', { config: { permission: PERMISSIONS.admin } }, (request, reply) => {
        const session = sessionOf(request);
        if (session === undefined) throw new GatewayError('ADMIN_SIGN_IN_REQUIRED');
        reply.hijack();
        // `Connection: close`: once the stream ends, its connection goes too (an idle keep-alive one would hold up the server's close).
        reply.raw.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'x-accel-buffering': 'no', connection: 'close' });
        options.feed.open(session, reply.raw);
      });
      // Plain calls, as in `/v1`: the routes land under this plugin's prefix.
      await presenceRoutes(guarded, options);
      await historyRoutes(guarded, options);
      await publishRoutes(guarded, options);
      await forceLogoutRoute(guarded, options);
    });
  }, { prefix: '/api' });
}

/** `POST /session { credential }` signs in; `DELETE /session` signs out. */
async function signInRoutes(api: FastifyInstance, { apiKeys, userTokens, adminSessions: sessions, feed }: AdminOptions): Promise<void> {
  api.post<{ Body: SignInBody }>('/session', { schema: { body: SignInBody } }, async (request, reply) => {
    try {
      const holder = await verifyCredential(apiKeys, userTokens, request.body.credential);
      assertPermitted(holder, PERMISSIONS.admin);
      // Signing in again replaces the session the cookie held.
      const previous = sessionIdOf(request);
      if (previous !== undefined) sessions.close(previous);
      const session = sessions.open(holder);
      setSessionCookie(request, reply, session.id, Math.max(1, Math.floor((session.expiresAt - Date.now()) / 1000)));
      request.log.info({ via: holder.via, ...(holder.via === 'token' ? { userId: holder.userId } : {}) }, 'admin signed in');
      return describe(session);
    } catch (error) {
      request.log.info({ code: isGatewayError(error) ? error.code : 'INTERNAL' }, 'admin sign-in refused');
      throw error;
    }
  });

  api.delete('/session', async (request, reply) => {
    const id = sessionIdOf(request);
    if (id !== undefined) {
      sessions.close(id);
      feed.end('signed-out', id);
    }
    setSessionCookie(request, reply, '', 0);
    return reply.code(204).send();
  });
}

/** What the page is told of its session: how it signed in and until when. */
function describe(session: AdminSession | undefined): { via: string; userId?: string; expiresAt: number } {
  if (session === undefined) throw new GatewayError('ADMIN_SIGN_IN_REQUIRED');
  const { holder } = session;
  return { via: holder.via, ...(holder.via === 'token' ? { userId: holder.userId } : {}), expiresAt: session.expiresAt };
}

function send(reply: FastifyReply, asset: AdminAsset): FastifyReply {
  return reply.type(asset.contentType).send(asset.body);
}
