import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import { ERROR_CATALOG, GatewayError, retryAfterOf, type ErrorCode } from '../../protocol/errors.js';
import type { SecurityRequirements } from './security-schemes.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The catalog codes this route's handler (and its surface's guard) may refuse with; documented per status. */
    refusals?: readonly ErrorCode[];
    /**
     * The body schema the handler checks itself (each item of a batch, a refresh token), documented as the
     * request body. Fastify validates only `schema.body`, which stays as loose as the handler needs.
     */
    documentedBody?: object;
    /** The code this route answers a fault with instead of `INTERNAL` (the auth service: `AUTH_UNAVAILABLE`). */
    faultsAnsweredAs?: ErrorCode;
  }
}

/** The component every refusal of the OpenAPI document references: the catalog's `{ error: { … } }`. */
export const ERROR_COMPONENT = 'Error';
const ERROR_REF = `${ERROR_COMPONENT}#`;

/** What every route of a surface shares in the document: its tag, the credentials it takes, the refusals of its guard. */
export interface SurfaceDescription {
  readonly tag: string;
  readonly security: SecurityRequirements;
  readonly refusals: readonly ErrorCode[];
  /** The surface's error handler answers faults with this code instead of `INTERNAL`. */
  readonly faultsAnsweredAs?: ErrorCode;
}

/**
 * Describes every route the plugin `app` adds from now on (an `onRoute` hook, scoped to the plugin): its
 * tag, security and the guard's refusals, merged with what the route declares itself. Documentation only:
 * validation and answers do not change.
 */
export function describeRoutes(app: FastifyInstance, surface: SurfaceDescription): void {
  app.addHook('onRoute', (route) => {
    const schema: FastifySchema = route.schema ?? {};
    route.schema = { ...schema, tags: schema.tags ?? [surface.tag], security: schema.security ?? surface.security.map((requirement) => ({ ...requirement })) };
    route.config = {
      ...route.config,
      refusals: [...surface.refusals, ...(route.config?.refusals ?? [])],
      ...(surface.faultsAnsweredAs === undefined ? {} : { faultsAnsweredAs: surface.faultsAnsweredAs }),
    };
  });
}

/** Request-level refusals the document adds to routes besides their own. */
export interface CommonRefusals {
  /** HTTP_RATE_LIMIT_PER_S is on: every route but the health checks may answer RATE_LIMITED. */
  readonly rateLimited: boolean;
  /** Paths never rate-limited. */
  readonly unlimitedPaths: ReadonlySet<string>;
}

/** What any request may be refused with before a route runs: Node's parser, the Host check, CORS, shutdown, a bug. */
const EVERY_ROUTE: readonly ErrorCode[] = ['MALFORMED_REQUEST', 'ORIGIN_FORBIDDEN', 'REQUEST_TIMEOUT', 'EXPECTATION_FAILED', 'HEADERS_TOO_LARGE', 'INTERNAL', 'SHUTTING_DOWN'];
/** A request with a body (Fastify reads none for GET). */
const WITH_BODY: readonly ErrorCode[] = ['INVALID_JSON', 'INVALID_BODY', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'];
const BODYLESS_METHODS = new Set(['GET', 'HEAD']);

/** Every code `route` can answer, in catalog order: its own and its surface's, and the common ones. */
export function refusalsOf(route: Pick<RouteOptions, 'method' | 'url' | 'schema' | 'config'>, common: CommonRefusals): ErrorCode[] {
  const methods = typeof route.method === 'string' ? [route.method] : route.method;
  const codes = new Set<ErrorCode>([...EVERY_ROUTE, ...(route.config?.refusals ?? [])]);
  const faultsAnsweredAs = route.config?.faultsAnsweredAs;
  if (faultsAnsweredAs !== undefined) {
    codes.delete('INTERNAL');
    codes.add(faultsAnsweredAs);
  }
  if (methods.some((method) => !BODYLESS_METHODS.has(method))) for (const code of WITH_BODY) codes.add(code);
  if (route.schema?.querystring !== undefined || route.schema?.params !== undefined) codes.add('INVALID_QUERY');
  if (common.rateLimited && !common.unlimitedPaths.has(route.url)) codes.add('RATE_LIMITED');
  return (Object.keys(ERROR_CATALOG) as ErrorCode[]).filter((code) => codes.has(code));
}

interface ResponseObject {
  description: string;
  headers?: Record<string, unknown>;
  content: { 'application/json': { schema: Record<string, unknown>; example?: unknown } };
}

/**
 * The OpenAPI responses of `codes`, one per status: the shared error component narrowed to those codes,
 * a description naming each, and `Retry-After` where one is transient. A status the route already
 * answers otherwise (`GET /readyz`'s 503) becomes either. Each example is one of the `own` codes (the
 * route's and its surface's) where its status has one.
 */
export function refusalResponses(codes: readonly ErrorCode[], answers: Record<string, unknown> = {}, own: readonly ErrorCode[] = []): Record<string, ResponseObject> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_CATALOG[code].status, [...(byStatus.get(ERROR_CATALOG[code].status) ?? []), code]);
  const responses: Record<string, ResponseObject> = {};
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const refusal = { allOf: [{ $ref: ERROR_REF }, { type: 'object', properties: { error: { type: 'object', properties: { code: { enum: statusCodes } } } } }] };
    const answer = answers[String(status)] as { description?: string } | undefined;
    const description = statusCodes.map((code) => `- \`${code}\`: ${escapeHtml(ERROR_CATALOG[code].message)}`).join('\n');
    const exampleCode = statusCodes.find((code) => own.includes(code)) ?? statusCodes[0]!;
    responses[status] = {
      description: answer === undefined ? `Refused (docs/errors.md):\n${description}` : `${answer.description ?? 'The answer'}; or refused:\n${description}`,
      ...(statusCodes.some((code) => retryAfterOf(code) !== undefined)
        ? { headers: { 'retry-after': { type: 'integer', description: 'On transient refusals: seconds to wait before retrying' } } }
        : {}),
      content: {
        'application/json': {
          schema: answer === undefined ? refusal : { anyOf: [answer, refusal] },
          // The page's example: one of the route's own codes (the schema alone would show the catalog's first).
          ...(answer === undefined ? { example: { error: new GatewayError(exampleCode).toBody() } } : {}),
        },
      },
    };
  }
  return responses;
}

/** Descriptions are Markdown: `<key>` would read as a tag. */
function escapeHtml(text: string): string {
  return text.replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
