import { readdirSync, readFileSync } from 'node:fs';
import type { Static } from '@sinclair/typebox';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ErrorAnswerSchema, type ErrorBodySchema } from '../src/protocol/error-schema.js';
import { ERROR_CATALOG, type ErrorBody, type ErrorCode } from '../src/protocol/errors.js';
import {
  curlExamples, documentValidator, isObject, objectAt, openApiProblems, openApiSchemaPointers, pointerTo, strictSchemaProblems, HTTP_METHODS,
  type CurlExample, type Json,
} from './support/api-documents.js';
import { ACCESS_KEY, ACCESS_TOKEN_SECRET, REFRESH_TOKEN_SECRET } from './support/auth.js';
import { launchBrowser } from './support/browser.js';
import { problemsOf } from './support/config.js';
import { TEST_API_KEY, TEST_JWT_SECRET, api, startGateway, type TestGateway } from './support/gateway.js';

/** Every surface on, the auth service under `/auth` (AUTH_PORT=same), a client event pattern, and the HTTP rate limit (high: its refusal is documented, not met). */
const EVERY_SURFACE = {
  JWT_SECRET: '', ACCESS_TOKEN_SECRET, REFRESH_TOKEN_SECRET, ACCESS_KEY, AUTH_PORT: 'same', CLIENT_EVENTS: 'typing', HTTP_RATE_LIMIT_PER_S: '100000',
};

interface RegisteredRoute {
  readonly listener: string;
  readonly method: string;
  readonly url: string;
}

/** A gateway that records every HTTP route it registers. */
async function startRecording(env: Record<string, string>): Promise<TestGateway & { routes: RegisteredRoute[] }> {
  const routes: RegisteredRoute[] = [];
  const gateway = await startGateway(env, {
    onRoute: (route, listener) => {
      for (const method of [route.method].flat()) routes.push({ listener, method, url: route.url });
    },
  });
  return { ...gateway, routes };
}

/**
 * Registered routes the document leaves out on purpose, and why. (Socket.IO's `/socket.io/` is no Fastify
 * route at all: Engine.IO answers it on the same server first; the AsyncAPI document describes it.)
 */
function whyExcluded({ method, url }: RegisteredRoute): string | undefined {
  if (method === 'HEAD') return 'Fastify\'s automatic HEAD of each GET: the same answer without a body';
  if (method === 'OPTIONS' && url === '*') return 'the CORS preflight of every route (@fastify/cors)';
  if (url === '/admin' || url.startsWith('/admin/')) return 'the admin dashboard\'s pages and its private API behind a session cookie (docs/admin.md), not the public API';
  if (url.startsWith('/client/switchboard.min.js')) return 'the Client SDK\'s browser bundle and its source map (CLIENT_BUNDLE), static files for a <script> tag';
  if (url === '/docs' || url.startsWith('/docs/')) return 'the reference page and its assets, and its own copies of the document (/docs/json, /docs/yaml)';
  return undefined;
}

/** `/v1/users/:userId` → `/v1/users/{userId}`. */
const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly operation: Json;
}

function operationsOf(document: Json): Operation[] {
  return Object.entries(objectAt(document, 'paths')).flatMap(([path, item]) =>
    Object.entries(item as Json).filter(([method]) => (HTTP_METHODS as readonly string[]).includes(method)).map(([method, operation]) => ({ method, path, operation: operation as Json })));
}

async function getJson(url: string): Promise<Json> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return (await response.json()) as Json;
}

/** The request body examples of an operation. */
function bodyExamples(operation: Json): unknown[] {
  const media = objectAt(operation, 'requestBody', 'content', 'application/json');
  return 'example' in media ? [media.example] : Object.values(objectAt(media, 'examples')).map((example) => (example as Json).value);
}

/** True when `schema` is, or combines (`allOf`, `anyOf`), a reference to the shared error component. */
function referencesError(schema: unknown): boolean {
  if (!isObject(schema)) return false;
  if (schema.$ref === '#/components/schemas/Error') return true;
  return [schema.allOf, schema.anyOf, schema.oneOf].some((list) => Array.isArray(list) && list.some(referencesError));
}

/** The catalog codes a documented refusal response lists (its narrowing of the error component's `code`). */
function codesOf(response: unknown): string[] {
  const find = (schema: unknown): string[] => {
    if (!isObject(schema)) return [];
    const code = objectAt(schema, 'properties', 'error', 'properties', 'code');
    if (Array.isArray(code.enum) && schema.$ref === undefined) return code.enum as string[];
    return [schema.allOf, schema.anyOf].flatMap((list) => (Array.isArray(list) ? list.flatMap(find) : []));
  };
  return find(objectAt(response, 'content', 'application/json').schema);
}

/** The refusals that say a request's shape is wrong: an example must never get one. */
const SHAPE_REFUSALS: readonly string[] = ['INVALID_BODY', 'INVALID_QUERY', 'INVALID_JSON', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE', 'MALFORMED_REQUEST'];

/** The credential headers an operation's security asks for: the test API key where one is accepted, else an access token. */
function credentialsFor(operation: Json, accessToken: string): Record<string, string> {
  const schemes = (Array.isArray(operation.security) ? operation.security : []).flatMap((requirement: unknown) => Object.keys(requirement as Json));
  if (schemes.includes('apiKey')) return { authorization: `Bearer ${TEST_API_KEY}` };
  if (schemes.includes('accessToken')) return { authorization: `Bearer ${accessToken}` };
  return {};
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

async function send(url: string, method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(`${url}${path}`, {
    method: method.toUpperCase(),
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const json = response.headers.get('content-type')?.includes('json') === true;
  return { status: response.status, body: text.length === 0 ? undefined : json ? JSON.parse(text) : text };
}

/**
 * Problems with `answer` as an answer of the operation at `path`/`method`: its status must be documented,
 * its body must fit the documented schema, and a refusal must be one the operation documents and not one
 * saying the request was malformed.
 */
function answerProblems(validate: ReturnType<typeof documentValidator>, where: Operation, answer: Answer): string[] {
  const label = `${where.method.toUpperCase()} ${where.path} → ${answer.status}`;
  const response = objectAt(where.operation, 'responses', String(answer.status));
  if (Object.keys(response).length === 0) return [`${label}: status not documented (${JSON.stringify(answer.body)})`];
  // The documented media type of the answer: JSON everywhere but /metrics (text/plain).
  const mediaType = Object.keys(objectAt(response, 'content'))[0];
  const problems = mediaType === undefined
    ? []
    : validate(pointerTo('paths', where.path, where.method, 'responses', String(answer.status), 'content', mediaType, 'schema'), answer.body).map((p) => `${label}: ${p}`);
  if (answer.status >= 400) {
    const code = String(objectAt(answer.body, 'error').code);
    if (SHAPE_REFUSALS.includes(code)) problems.push(`${label}: refused as malformed: ${JSON.stringify(answer.body)}`);
    if (!codesOf(response).includes(code)) problems.push(`${label}: ${code} is not documented`);
  }
  return problems;
}

describe('the OpenAPI document (/openapi.json)', () => {
  it('documents every route the gateway registered, and no other', async () => {
    const { url, routes } = await startRecording(EVERY_SURFACE);
    const document = await getJson(`${url}/openapi.json`);
    const gatewayRoutes = routes.filter((route) => route.listener === 'gateway');
    const registered = gatewayRoutes.filter((route) => whyExcluded(route) === undefined).map(({ method, url: path }) => `${method} ${openApiPath(path)}`);
    const documented = operationsOf(document).map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    expect(documented.sort()).toEqual([...new Set(registered)].sort());
    // Every surface was on, so each is in the document.
    expect(documented).toEqual(expect.arrayContaining([
      'GET /healthz', 'GET /readyz', 'GET /openapi.json', 'GET /asyncapi.json', 'POST /v1/publish', 'GET /v1/rooms/{room}/history', 'POST /internal/emit',
      'POST /api/socket/events', 'POST /client', 'DELETE /event', 'POST /completed', 'POST /events/{eventName}', 'POST /auth/login', 'GET /auth/me',
    ]));
    // The exclusions are real routes, each for its reason.
    expect(gatewayRoutes.filter((route) => whyExcluded(route) !== undefined).map(({ method, url: path }) => `${method} ${path}`)).toEqual(
      expect.arrayContaining(['OPTIONS *', 'GET /docs', 'GET /docs/json', 'HEAD /v1/stats', 'GET /admin', 'POST /admin/api/publish', 'GET /client/switchboard.min.js']),
    );
  });

  it('is served by the auth service on its own port (AUTH_PORT) for its own routes', async () => {
    const { url, routes, gateway } = await startRecording({ ...EVERY_SURFACE, AUTH_PORT: '0' });
    const authRoutes = routes.filter((route) => route.listener === 'auth-service' && whyExcluded(route) === undefined);
    const document = await getJson(`${gateway.authUrl!}/openapi.json`);
    expect(operationsOf(document).map(({ method, path }) => `${method.toUpperCase()} ${path}`).sort())
      .toEqual(authRoutes.map(({ method, url: path }) => `${method} ${openApiPath(path)}`).sort());
    expect(Object.keys(objectAt(document, 'paths'))).toEqual(expect.arrayContaining(['/login', '/token', '/logout', '/password', '/me', '/healthz']));
    expect(openApiProblems(document)).toEqual([]);
    // …and the gateway's own document no longer lists them.
    expect(Object.keys(objectAt(await getJson(`${url}/openapi.json`), 'paths')).filter((path) => /auth|login/.test(path))).toEqual([]);
  });

  it('answers every refusal with the one error component, narrowed to the codes of each status', async () => {
    const { url } = await startGateway(EVERY_SURFACE);
    const document = await getJson(`${url}/openapi.json`);
    const component = objectAt(document, 'components', 'schemas', 'Error');
    expect(component).toEqual(JSON.parse(JSON.stringify(ErrorAnswerSchema)));
    expect(objectAt(component, 'properties', 'error', 'properties', 'code').enum).toEqual(Object.keys(ERROR_CATALOG));
    expectTypeOf<Static<typeof ErrorBodySchema>>().toEqualTypeOf<ErrorBody>();
    const validate = documentValidator(document, '2020-12');
    const problems: string[] = [];
    let refusals = 0;
    for (const { method, path, operation } of operationsOf(document)) {
      for (const [status, response] of Object.entries(objectAt(operation, 'responses'))) {
        if (Number(status) < 400) continue;
        refusals += 1;
        const where = `${method.toUpperCase()} ${path} ${status}`;
        if (!referencesError(objectAt(response, 'content', 'application/json').schema)) problems.push(`${where}: does not reference #/components/schemas/Error`);
        const codes = codesOf(response);
        if (codes.length === 0) problems.push(`${where}: names no code`);
        const media = objectAt(response, 'content', 'application/json');
        if ('example' in media) {
          problems.push(...validate(pointerTo('paths', path, method, 'responses', status, 'content', 'application/json', 'schema'), media.example).map((p) => `${where} example: ${p}`));
        }
        for (const code of codes) if (ERROR_CATALOG[code as ErrorCode]?.status !== Number(status)) problems.push(`${where}: ${code} is not a ${status}`);
      }
      // What every route may answer before it runs: a request Node's parser refuses, a closing node, a bug.
      expect(Object.keys(objectAt(operation, 'responses'))).toEqual(expect.arrayContaining(['400', '503']));
    }
    expect(problems).toEqual([]);
    expect(refusals).toBeGreaterThan(100);
  });

  it('documents the refusals the gateway really gives: no credential, a body that is not JSON', async () => {
    const { url } = await startGateway(EVERY_SURFACE);
    const document = await getJson(`${url}/openapi.json`);
    const validate = documentValidator(document, '2020-12');
    const problems: string[] = [];
    let sent = 0;
    for (const where of operationsOf(document)) {
      const path = where.path.replace(/\{\w+\}/g, 'x');
      const answerRefusal = (answer: Answer, expected: string[]): string[] => {
        const code = String(objectAt(answer.body, 'error').code);
        const found = answerProblems(validate, where, answer).filter((problem) => !problem.includes('refused as malformed'));
        return expected.includes(code) ? found : [...found, `${where.method.toUpperCase()} ${where.path}: ${code} instead of ${expected.join(' or ')}`];
      };
      if (Array.isArray(where.operation.security) && where.operation.security.length > 0) {
        sent += 1;
        // With its example body, so that the credential is all that is missing.
        problems.push(...answerRefusal(await send(url, where.method, path, bodyExamples(where.operation)[0], {}), ['API_KEY_MISSING', 'TOKEN_MISSING']));
      }
      if (where.method !== 'get') {
        sent += 1;
        const response = await fetch(`${url}${path}`, { method: where.method.toUpperCase(), headers: { ...credentialsFor(where.operation, 'x'), 'content-type': 'application/json' }, body: '{"no' });
        problems.push(...answerRefusal({ status: response.status, body: await response.json() }, ['INVALID_JSON']));
      }
    }
    expect(problems).toEqual([]);
    expect(sent).toBeGreaterThan(30);
  });

  it('is a valid OpenAPI 3.1 document whose schemas compile as JSON Schema 2020-12', async () => {
    const { url } = await startGateway(EVERY_SURFACE);
    const document = await getJson(`${url}/openapi.json`);
    expect(openApiProblems(document)).toEqual([]);
    const pointers = openApiSchemaPointers(document);
    expect(pointers.length).toBeGreaterThan(100);
    expect(strictSchemaProblems(document, pointers, '2020-12')).toEqual([]);
    // The checks can fail: a typo in a field, a missing description, a path parameter missing.
    const broken = structuredClone(document);
    const publish = objectAt(broken, 'paths', '/v1/publish', 'post');
    publish.sumary = 'typo';
    delete objectAt(publish, 'responses', '200').description;
    objectAt(broken, 'paths')['/v1/rooms/{room}/nope'] = { get: { responses: { 200: { description: 'ok' } } } };
    expect(openApiProblems(broken)).toEqual(expect.arrayContaining([
      expect.stringContaining('must NOT have additional properties'), expect.stringContaining('must have required property \'description\''),
      expect.stringContaining('GET /v1/rooms/{room}/nope: path parameters'),
    ]));
  });

  it('has an example of every request input; each fits the document and the gateway accepts it', async () => {
    const { url } = await startGateway(EVERY_SURFACE);
    const document = await getJson(`${url}/openapi.json`);
    const validate = documentValidator(document, '2020-12');
    const problems: string[] = [];
    const requests: { where: Operation; path: string; bodies: unknown[] }[] = [];
    for (const where of operationsOf(document)) {
      const label = `${where.method.toUpperCase()} ${where.path}`;
      let path = where.path;
      const query = new URLSearchParams();
      const parameters = (Array.isArray(where.operation.parameters) ? where.operation.parameters : []) as Json[];
      parameters.forEach((parameter, index) => {
        if (!('example' in parameter)) {
          if (parameter.required === true) problems.push(`${label}: no example of the ${String(parameter.in)} parameter ${String(parameter.name)}`);
          return;
        }
        problems.push(...validate(pointerTo('paths', where.path, where.method, 'parameters', String(index), 'schema'), parameter.example).map((p) => `${label} ${String(parameter.name)}: ${p}`));
        if (parameter.in === 'path') path = path.replace(`{${String(parameter.name)}}`, encodeURIComponent(String(parameter.example)));
        else query.set(String(parameter.name), String(parameter.example));
      });
      const bodies = bodyExamples(where.operation);
      if (Object.keys(objectAt(where.operation, 'requestBody')).length > 0 && bodies.length === 0) problems.push(`${label}: no example of its body`);
      for (const body of bodies) {
        problems.push(...validate(pointerTo('paths', where.path, where.method, 'requestBody', 'content', 'application/json', 'schema'), body).map((p) => `${label} body: ${p}`));
      }
      requests.push({ where, path: query.size > 0 ? `${path}?${query}` : path, bodies: bodies.length > 0 ? bodies : [undefined] });
    }
    expect(problems).toEqual([]);

    // Sent as a client would: registrations first, removals last.
    const { accessToken } = (await api<{ accessToken: string }>(url, '/auth/login', { body: { accessKey: ACCESS_KEY }, key: null })).body;
    const order = (method: string) => ['post', 'get', 'delete'].indexOf(method);
    const ordered = [...requests].sort((a, b) => order(a.where.method) - order(b.where.method));
    const deletes = ordered.filter(({ where }) => where.method === 'delete').reverse();
    const refused: string[] = [];
    for (const { where, path, bodies } of [...ordered.filter(({ where }) => where.method !== 'delete'), ...deletes]) {
      for (const body of bodies) {
        const answer = await send(url, where.method, path, body, credentialsFor(where.operation, accessToken));
        problems.push(...answerProblems(validate, where, answer));
        if (answer.status >= 400) refused.push(`${where.method.toUpperCase()} ${where.path} ${String(objectAt(answer.body, 'error').code)}`);
      }
    }
    expect(problems).toEqual([]);
    // Only the auth service's examples are refused, for what they hold (no such user, no real refresh token, the admin has no password).
    expect(refused.sort()).toEqual([
      'DELETE /auth/logout REFRESH_TOKEN_INVALID', 'POST /auth/login LOGIN_FAILED', 'POST /auth/login LOGIN_FAILED',
      'POST /auth/password PASSWORD_CHANGE_UNSUPPORTED', 'POST /auth/token REFRESH_TOKEN_INVALID',
    ]);
  });

  it('fits every curl example of the docs, and the gateway accepts each', async () => {
    const { url } = await startGateway(EVERY_SURFACE);
    const document = await getJson(`${url}/openapi.json`);
    const validate = documentValidator(document, '2020-12');
    const root = new URL('..', import.meta.url);
    const examples: CurlExample[] = ['README.md', ...readdirSync(new URL('docs/', root)).map((name) => `docs/${name}`)]
      .flatMap((file) => curlExamples(file, readFileSync(new URL(file, root), 'utf8')));
    expect(examples.length).toBeGreaterThan(15);
    const problems: string[] = [];
    const { accessToken } = (await api<{ accessToken: string }>(url, '/auth/login', { body: { accessKey: ACCESS_KEY }, key: null })).body;
    for (const example of examples) {
      // The auth service's own port (docs/auth-service.md) is `/auth` here (AUTH_PORT=same).
      const path = example.url.port === '4000' ? `/auth${example.url.pathname}` : example.url.pathname;
      const where = findOperation(document, example.method, path);
      const label = `${example.document}: ${example.method} ${example.url.pathname}`;
      if (where === undefined) {
        problems.push(`${label}: no such operation`);
        continue;
      }
      if (example.body !== undefined) {
        problems.push(...validate(pointerTo('paths', where.path, where.method, 'requestBody', 'content', 'application/json', 'schema'), example.body).map((p) => `${label}: ${p}`));
      }
      const query = new URLSearchParams([...example.url.searchParams].filter(([, value]) => !value.startsWith('$'))); // `$EPOCH`: a shell variable
      const answer = await send(url, where.method, `${path}${query.size > 0 ? `?${query}` : ''}`, example.body, credentialsFor(where.operation, accessToken));
      problems.push(...answerProblems(validate, where, answer).map((p) => `${example.document}: ${p}`));
    }
    expect(problems).toEqual([]);
  });
});

/** The operation of `document` that serves `method` `path` (a static path before a templated one). */
function findOperation(document: Json, method: string, path: string): Operation | undefined {
  const candidates = operationsOf(document).filter((operation) => operation.method === method.toLowerCase());
  return candidates.find((operation) => operation.path === path)
    ?? candidates.find((operation) => new RegExp(`^${operation.path.replace(/\{\w+\}/g, '[^/]+')}$`).test(path));
}

describe('the reference page (/docs)', () => {
  it('references nothing off-host', async () => {
    const { url } = await startGateway();
    const page = await fetch(`${url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    const references = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(references.length).toBeGreaterThan(3);
    expect(references.filter((reference) => new URL(reference, `${url}/docs`).origin !== url)).toEqual([]);
    const initializer = await (await fetch(`${url}/docs/static/swagger-initializer.js`)).text();
    const code = initializer.replace(/^\s*\/\/.*$/gm, ''); // comments are not requests
    expect(code.match(/https?:\/\/[^\s'"]+/g) ?? []).toEqual([]);
  });

  it('renders every operation in headless Chromium without a request leaving the gateway', async () => {
    const { url } = await startGateway(EVERY_SURFACE);
    const document = await getJson(`${url}/openapi.json`);
    const browser = await launchBrowser();
    const page = await browser.newPage();
    const requested: string[] = [];
    const errors: string[] = [];
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      requested.push(request.url());
      const sameOrigin = request.url().startsWith('data:') || new URL(request.url()).origin === url;
      void (sameOrigin ? request.continue() : request.abort());
    });
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(`${url}/docs`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('.opblock-summary-path', { timeout: 15_000 });
    const shown = await page.$$eval('.opblock-summary-path', (elements) => elements.map((element) => element.getAttribute('data-path')));
    const operations = operationsOf(document);
    expect(shown).toHaveLength(operations.length);
    expect(new Set(shown)).toEqual(new Set(operations.map(({ path }) => path)));
    expect(await page.title()).toBe('Switchboard HTTP API');
    expect(requested.filter((address) => !address.startsWith('data:') && new URL(address).origin !== url)).toEqual([]);
    expect(requested).toContain(`${url}/docs/json`);
    expect(errors).toEqual([]);
  });
});

describe('API_DOCS', () => {
  it('=false serves neither document nor the page', async () => {
    const { url } = await startGateway({ API_DOCS: 'false' });
    for (const path of ['/openapi.json', '/asyncapi.json', '/docs', '/docs/json']) {
      const response = await api(url, path, { key: null });
      expect([path, response.status, response.body]).toEqual([path, 404, { error: expect.objectContaining({ code: 'NOT_FOUND' }) }]);
    }
  });

  it('keeps GATEWAY_BASE_PATH off the documents\' paths while they are served', () => {
    const env = { NODE_ENV: 'test', API_KEYS: TEST_API_KEY, JWT_SECRET: TEST_JWT_SECRET };
    expect(problemsOf({ ...env, GATEWAY_BASE_PATH: '/docs' })).toEqual(['GATEWAY_BASE_PATH=/docs collides with the API reference page (API_DOCS) (/docs): choose another path']);
    expect(problemsOf({ ...env, GATEWAY_BASE_PATH: '/openapi.json' })).toHaveLength(1);
    expect(problemsOf({ ...env, GATEWAY_BASE_PATH: '/docs', API_DOCS: 'false' })).toEqual([]);
  });
});
