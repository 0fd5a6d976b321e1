import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { GatewayError } from '../protocol/errors.js';

/**
 * Where `npm run build` writes the Client SDK's browser bundle: the workspace package packages/client
 * (@switchboard/client), beside `src/` and `dist/` at the package root as `admin-ui/` is (src/http/ and
 * dist/http/ are both two levels down), and copied there into the image. Found by path rather than
 * through node_modules: a node_modules linked from another checkout would serve that checkout's build.
 */
export const CLIENT_DIST_DIR = new URL('../../packages/client/dist/', import.meta.url);

/** The bundle's name under `/client/` and in `dist/`; its source map is the same name plus `.map`. */
export const CLIENT_BUNDLE_NAME = 'switchboard.min.js';

/** Browsers and CDNs may reuse it for five minutes, then ask again (a 304 while the ETag still matches). */
const CACHE_CONTROL = 'public, max-age=300, must-revalidate';

/** One file of the bundle, held in memory with its validator. */
export interface ClientBundleFile {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

/** The bundle and, when tsup wrote one, its source map. */
export interface ClientBundle {
  readonly script: ClientBundleFile;
  readonly sourceMap: ClientBundleFile | undefined;
}

/**
 * Reads the bundle (about 50 KB) and its source map once, at start-up; `undefined` when the client was
 * not built. Requests are then answered from memory: a rebuild needs a restart, as a new `dist/` of the
 * gateway does.
 */
export function loadClientBundle(dir: URL = CLIENT_DIST_DIR): ClientBundle | undefined {
  const script = readBundleFile(new URL(CLIENT_BUNDLE_NAME, dir), 'application/javascript; charset=utf-8');
  if (script === undefined) return undefined;
  return { script, sourceMap: readBundleFile(new URL(`${CLIENT_BUNDLE_NAME}.map`, dir), 'application/json; charset=utf-8') };
}

function readBundleFile(file: URL, contentType: string): ClientBundleFile | undefined {
  if (!existsSync(file)) return undefined;
  const body = readFileSync(file);
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

export interface ClientBundleOptions {
  /** `undefined`: not built — the routes answer `NOT_FOUND` saying so, after one warning at start. */
  readonly bundle: ClientBundle | undefined;
  readonly logger: Logger;
}

/**
 * `GET /client/switchboard.min.js` (CLIENT_BUNDLE): the Client SDK for a `<script>` tag, global
 * `Switchboard`, socket.io-client included; and its source map. No key (it is the same for everyone);
 * no CORS needed (a plain `<script>` sends no `Origin`). Static files, like `/admin` and `/docs` assets:
 * kept out of `/openapi.json`. Register with the prefix `/client`.
 */
export async function clientBundleRoutes(app: FastifyInstance, { bundle, logger }: ClientBundleOptions): Promise<void> {
  if (bundle === undefined) {
    logger.warn({ dir: fileURLToPath(CLIENT_DIST_DIR) }, `the Client SDK was not built: /client/${CLIENT_BUNDLE_NAME} answers 404 until \`npm run build\` and a restart (CLIENT_BUNDLE=false turns it off)`);
  }
  const notBuilt = () => new GatewayError('NOT_FOUND', `The Client SDK was not built on this gateway: run \`npm run build\` and restart it (CLIENT_BUNDLE=false turns /client/${CLIENT_BUNDLE_NAME} off)`);
  app.get(`/${CLIENT_BUNDLE_NAME}`, { schema: { hide: true } }, async (request, reply) => {
    if (bundle === undefined) throw notBuilt();
    return send(request, reply, bundle.script);
  });
  app.get(`/${CLIENT_BUNDLE_NAME}.map`, { schema: { hide: true } }, async (request, reply) => {
    if (bundle === undefined) throw notBuilt();
    if (bundle.sourceMap === undefined) throw new GatewayError('NOT_FOUND');
    return send(request, reply, bundle.sourceMap);
  });
}

/** The file, or 304 when the browser's copy (`If-None-Match`) is still current. */
function send(request: FastifyRequest, reply: FastifyReply, file: ClientBundleFile): FastifyReply {
  void reply.headers({ etag: file.etag, 'cache-control': CACHE_CONTROL, 'x-content-type-options': 'nosniff' });
  if (matches(request.headers['if-none-match'], file.etag)) return reply.code(304).send();
  return reply.type(file.contentType).send(file.body);
}

/** RFC 9110's weak comparison of `If-None-Match` against the current ETag (`*` matches any). */
function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}
