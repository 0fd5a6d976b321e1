/**
 * The credentials the HTTP API takes, as OpenAPI security schemes, and the requirements the surfaces
 * declare with them (each list: alternatives, any one suffices).
 */
export const SECURITY_SCHEMES = {
  apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (API_KEYS) as `Authorization: Bearer <key>`' },
  apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'An API key (API_KEYS) as `X-Api-Key: <key>`' },
  adminJwt: {
    type: 'http', scheme: 'bearer', bearerFormat: 'JWT',
    description: 'A client JWT (checked like the sockets\' tokens) whose roles include `admin`, as `Authorization: Bearer <token>`',
  },
  accessToken: {
    type: 'http', scheme: 'bearer', bearerFormat: 'JWT',
    description: 'An access token of the auth service (`POST /login`), its session still active, as `Authorization: Bearer <token>`; on `/v1` it needs the route\'s permission',
  },
} as const;

type SchemeName = keyof typeof SECURITY_SCHEMES;

/** OpenAPI security requirements: alternatives, any one suffices; `[]` = no credential. */
export type SecurityRequirements = readonly Readonly<Record<string, readonly string[]>>[];

function anyOf(...schemes: SchemeName[]): SecurityRequirements {
  return schemes.map((scheme) => ({ [scheme]: [] }));
}

/** An API key, in either header. */
export const API_KEY_SECURITY = anyOf('apiKey', 'apiKeyHeader');
/** An API key, or an admin JWT (seed 000's transaction routes). */
export const ADMIN_SECURITY = anyOf('adminJwt', 'apiKey', 'apiKeyHeader');
/** An API key, or an auth service access token (`/v1` with the auth service on). */
export const API_KEY_OR_ACCESS_TOKEN_SECURITY = anyOf('apiKey', 'apiKeyHeader', 'accessToken');
/** An auth service access token. */
export const ACCESS_TOKEN_SECURITY = anyOf('accessToken');
/** No credential. */
export const PUBLIC = anyOf();
