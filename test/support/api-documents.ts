import { Ajv, type AnySchema, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';

/**
 * Reading the gateway's API documents (`/openapi.json`, `/asyncapi.json`) in tests: validators for the
 * schemas they hold, their essential structure (no OpenAPI or AsyncAPI validator package is installed, so
 * the checks below are the rules of the two specifications that these documents exercise), and the
 * `curl` examples of the docs.
 */

export type Json = Record<string, unknown>;

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value[key]` as an object (`{}` when it is not one). */
export function objectAt(value: unknown, ...keys: string[]): Json {
  let current = value;
  for (const key of keys) current = isObject(current) ? current[key] : undefined;
  return isObject(current) ? current : {};
}

/** The value `ref` (`#/a/b~1c`) points to in `document`; `undefined` when it points nowhere. */
export function resolveRef(document: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let current: unknown = document;
  for (const token of ref.slice(2).split('/').map((part) => decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~'))) {
    if (!isObject(current) && !Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[token];
  }
  return current;
}

/** Every `$ref` in `value`. */
export function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsIn(item, found);
  else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') found.push(child);
      else refsIn(child, found);
    }
  }
  return found;
}

/** A JSON Pointer fragment (`#/paths/~1v1~1publish/post`) for the given keys. */
export function pointerTo(...keys: string[]): string {
  return `#/${keys.map((key) => encodeURIComponent(key.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/')}`;
}

/**
 * Validates values against the schemas inside `document`, found by JSON Pointer, their `$ref`s into the
 * document resolved: JSON Schema 2020-12 for OpenAPI 3.1, draft-07 for AsyncAPI's default schema format.
 */
export function documentValidator(document: Json, dialect: '2020-12' | 'draft-07'): (pointer: string, value: unknown) => string[] {
  const options = { strict: false, allErrors: true, validateSchema: false, validateFormats: false } as const;
  const ajv = dialect === '2020-12' ? new Ajv2020(options) : new Ajv(options);
  ajv.addSchema(document as AnySchema, 'document');
  return (pointer, value) => {
    const validate: ValidateFunction | undefined = ajv.getSchema(`document${pointer}`);
    if (validate === undefined) return [`no schema at ${pointer}`];
    return validate(value) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''}`);
  };
}

/**
 * Problems compiling the schemas at `pointers` in strict mode: unknown keywords (a typo such as `minLenght`),
 * wrong types of keywords. OpenAPI's own schema keywords (`example`, `discriminator`, `xml`, `externalDocs`)
 * are known. `$ref`s to the document's component schemas resolve.
 */
export function strictSchemaProblems(document: Json, pointers: readonly string[], dialect: '2020-12' | 'draft-07'): string[] {
  const options = { strict: true, strictRequired: false, allowUnionTypes: true, validateFormats: false } as const;
  const ajv = dialect === '2020-12' ? new Ajv2020(options) : new Ajv(options);
  ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
  ajv.addSchema({ $id: 'components', $defs: objectAt(document, 'components', 'schemas') } as AnySchema);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const pointer of pointers) {
    const schema = resolveRef(document, pointer);
    const text = JSON.stringify(schema);
    if (seen.has(text)) continue; // many refusals share one schema: compile each once
    seen.add(text);
    try {
      ajv.compile(withRefsInto(schema, 'components') as AnySchema);
    } catch (error) {
      problems.push(`${pointer}: ${(error as Error).message}`);
    }
  }
  return problems;
}

/** `schema` with its `$ref`s to `#/components/schemas/…` pointing into the schema registered as `id` (its `$defs`). */
function withRefsInto(schema: unknown, id: string): unknown {
  if (Array.isArray(schema)) return schema.map((item) => withRefsInto(item, id));
  if (!isObject(schema)) return schema;
  return Object.fromEntries(Object.entries(schema).map(([key, value]) =>
    [key, key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')
      ? value.replace('#/components/schemas/', `${id}#/$defs/`)
      : withRefsInto(value, id)]));
}

/** Every schema of an OpenAPI document, by pointer: components, parameters, request bodies, responses. */
export function openApiSchemaPointers(document: Json): string[] {
  const pointers = Object.keys(objectAt(document, 'components', 'schemas')).map((name) => pointerTo('components', 'schemas', name));
  for (const [path, item] of Object.entries(objectAt(document, 'paths'))) {
    for (const [method, operation] of Object.entries(item as Json)) {
      const parameters = Array.isArray((operation as Json).parameters) ? ((operation as Json).parameters as unknown[]) : [];
      parameters.forEach((_parameter, index) => pointers.push(pointerTo('paths', path, method, 'parameters', String(index), 'schema')));
      for (const type of Object.keys(objectAt(operation, 'requestBody', 'content'))) pointers.push(pointerTo('paths', path, method, 'requestBody', 'content', type, 'schema'));
      for (const [status, response] of Object.entries(objectAt(operation, 'responses'))) {
        for (const type of Object.keys(objectAt(response, 'content'))) pointers.push(pointerTo('paths', path, method, 'responses', status, 'content', type, 'schema'));
      }
    }
  }
  return pointers;
}

const extensions = { '^x-': {} };
const strictObject = (properties: Json, required: string[] = []) => ({ type: 'object', properties, required, patternProperties: extensions, additionalProperties: false });
const schemaObject = { type: ['object', 'boolean'] };
const examples = { type: 'object', additionalProperties: strictObject({ summary: { type: 'string' }, description: { type: 'string' }, value: {} }) };
const mediaType = strictObject({ schema: schemaObject, example: {}, examples });
const content = { type: 'object', propertyNames: { pattern: '^[a-z]+/[a-z0-9.+*-]+$' }, additionalProperties: mediaType };
const header = strictObject({ description: { type: 'string' }, required: { type: 'boolean' }, schema: schemaObject });
const parameter = {
  ...strictObject({
    name: { type: 'string', minLength: 1 }, in: { enum: ['query', 'header', 'path', 'cookie'] }, description: { type: 'string' },
    required: { type: 'boolean' }, deprecated: { type: 'boolean' }, schema: schemaObject, example: {}, examples, style: { type: 'string' }, explode: { type: 'boolean' },
  }, ['name', 'in', 'schema']),
  if: { properties: { in: { const: 'path' } } },
  then: { properties: { required: { const: true } }, required: ['required'] },
};
const response = strictObject({ description: { type: 'string' }, headers: { type: 'object', additionalProperties: header }, content, links: { type: 'object' } }, ['description']);
const operation = strictObject({
  tags: { type: 'array', items: { type: 'string' } }, summary: { type: 'string' }, description: { type: 'string' }, operationId: { type: 'string' },
  parameters: { type: 'array', items: parameter },
  requestBody: strictObject({ description: { type: 'string' }, content, required: { type: 'boolean' } }, ['content']),
  responses: { type: 'object', minProperties: 1, propertyNames: { pattern: '^([1-5](\\d\\d|XX)|default)$' }, additionalProperties: response },
  deprecated: { type: 'boolean' }, security: { type: 'array', items: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } } },
  externalDocs: { type: 'object' }, callbacks: { type: 'object' }, servers: { type: 'array' },
}, ['responses']);
const securityScheme = {
  ...strictObject({
    type: { enum: ['apiKey', 'http', 'mutualTLS', 'oauth2', 'openIdConnect'] }, description: { type: 'string' }, name: { type: 'string' },
    in: { enum: ['query', 'header', 'cookie'] }, scheme: { type: 'string' }, bearerFormat: { type: 'string' }, flows: { type: 'object' }, openIdConnectUrl: { type: 'string' },
  }, ['type']),
  allOf: [
    { if: { properties: { type: { const: 'http' } } }, then: { required: ['scheme'] } },
    { if: { properties: { type: { const: 'apiKey' } } }, then: { required: ['name', 'in'] } },
  ],
};
/** The parts of the OpenAPI 3.1 schema (spec.openapis.org/oas/3.1/schema) this gateway's documents use, as strictly. */
const OPENAPI_STRUCTURE = strictObject({
  openapi: { type: 'string', pattern: '^3\\.1\\.\\d+$' },
  info: strictObject({ title: { type: 'string', minLength: 1 }, version: { type: 'string', minLength: 1 }, description: { type: 'string' }, summary: { type: 'string' } }, ['title', 'version']),
  servers: { type: 'array' },
  paths: { type: 'object', propertyNames: { pattern: '^/' }, additionalProperties: strictObject(Object.fromEntries([...HTTP_METHODS.map((m) => [m, operation]), ['summary', { type: 'string' }], ['description', { type: 'string' }], ['parameters', { type: 'array' }]])) },
  components: strictObject({ schemas: { type: 'object', additionalProperties: schemaObject }, securitySchemes: { type: 'object', additionalProperties: securityScheme } }),
  security: { type: 'array' }, tags: { type: 'array' }, externalDocs: { type: 'object' }, webhooks: { type: 'object' }, jsonSchemaDialect: { type: 'string' },
}, ['openapi', 'info']);

/** What is wrong with `document` as an OpenAPI 3.1 document, as far as {@link OPENAPI_STRUCTURE} and the rules below tell. */
export function openApiProblems(document: Json): string[] {
  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(OPENAPI_STRUCTURE);
  const problems = validate(document) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''}`);
  const operationIds = new Map<string, string>();
  const schemes = objectAt(document, 'components', 'securitySchemes');
  const tags = new Set((Array.isArray(document.tags) ? document.tags : []).map((tag: unknown) => objectAt({ tag }, 'tag').name));
  for (const [path, item] of Object.entries(objectAt(document, 'paths'))) {
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!).sort();
    for (const [method, op] of Object.entries(item as Json)) {
      const where = `${method.toUpperCase()} ${path}`;
      const parameters = (Array.isArray((op as Json).parameters) ? (op as Json).parameters : []) as Json[];
      const inPath = parameters.filter((p) => p.in === 'path').map((p) => String(p.name)).sort();
      if (JSON.stringify(inPath) !== JSON.stringify(templated)) problems.push(`${where}: path parameters ${inPath.join(',')} ≠ template ${templated.join(',')}`);
      const keys = parameters.map((p) => `${String(p.in)}:${String(p.name)}`);
      if (new Set(keys).size !== keys.length) problems.push(`${where}: a parameter is declared twice`);
      for (const tag of (Array.isArray((op as Json).tags) ? (op as Json).tags : []) as unknown[]) if (!tags.has(tag)) problems.push(`${where}: tag ${String(tag)} is not declared`);
      const id = (op as Json).operationId;
      if (typeof id === 'string') {
        if (operationIds.has(id)) problems.push(`${where}: operationId ${id} is also ${operationIds.get(id)!}`);
        operationIds.set(id, where);
      }
      for (const requirement of (Array.isArray((op as Json).security) ? (op as Json).security : []) as Json[]) {
        for (const name of Object.keys(requirement)) if (!(name in schemes)) problems.push(`${where}: unknown security scheme ${name}`);
      }
    }
  }
  for (const ref of refsIn(document)) if (resolveRef(document, ref) === undefined) problems.push(`unresolved $ref ${ref}`);
  return problems;
}

/** AsyncAPI 3.0 component, channel and operation ids. */
const ASYNCAPI_ID = /^[a-zA-Z0-9.\-_]+$/;
const MESSAGE_FIELDS = new Set(['headers', 'payload', 'correlationId', 'contentType', 'name', 'title', 'summary', 'description', 'tags', 'externalDocs', 'bindings', 'examples', 'traits']);
const OPERATION_FIELDS = new Set(['action', 'channel', 'title', 'summary', 'description', 'security', 'tags', 'externalDocs', 'bindings', 'traits', 'messages', 'reply']);
const CHANNEL_FIELDS = new Set(['address', 'messages', 'title', 'summary', 'description', 'servers', 'parameters', 'tags', 'externalDocs', 'bindings']);
const SECURITY_TYPES = new Set(['userPassword', 'apiKey', 'X509', 'symmetricEncryption', 'asymmetricEncryption', 'httpApiKey', 'http', 'oauth2', 'openIdConnect', 'plain', 'scramSha256', 'scramSha512', 'gssapi']);

/** What is wrong with `document` as an AsyncAPI 3.0 document, as far as the specification's rules below tell. */
export function asyncApiProblems(document: Json): string[] {
  const problems: string[] = [];
  const unknownFields = (where: string, value: unknown, allowed: ReadonlySet<string>) => {
    for (const key of Object.keys(isObject(value) ? value : {})) if (!allowed.has(key) && !key.startsWith('x-')) problems.push(`${where}: unknown field ${key}`);
  };
  if (document.asyncapi !== '3.0.0') problems.push(`asyncapi is ${String(document.asyncapi)}`);
  const info = objectAt(document, 'info');
  if (typeof info.title !== 'string' || typeof info.version !== 'string') problems.push('info needs a title and a version');
  for (const [name, server] of Object.entries(objectAt(document, 'servers'))) {
    if (typeof (server as Json).host !== 'string' || typeof (server as Json).protocol !== 'string') problems.push(`server ${name} needs host and protocol`);
  }
  for (const section of ['messages', 'schemas', 'securitySchemes']) {
    for (const id of Object.keys(objectAt(document, 'components', section))) if (!ASYNCAPI_ID.test(id)) problems.push(`components.${section} id ${id}`);
  }
  for (const [id, scheme] of Object.entries(objectAt(document, 'components', 'securitySchemes'))) {
    if (!SECURITY_TYPES.has(String((scheme as Json).type))) problems.push(`security scheme ${id}: type ${String((scheme as Json).type)}`);
  }
  for (const [id, message] of Object.entries(objectAt(document, 'components', 'messages'))) unknownFields(`message ${id}`, message, MESSAGE_FIELDS);
  for (const [id, channel] of Object.entries(objectAt(document, 'channels'))) {
    if (!ASYNCAPI_ID.test(id)) problems.push(`channel id ${id}`);
    unknownFields(`channel ${id}`, channel, CHANNEL_FIELDS);
    if (typeof (channel as Json).address !== 'string') problems.push(`channel ${id} has no address`);
  }
  /** A reference to a message of the channel `channelRef` points to. */
  const checkMessages = (where: string, channelRef: unknown, messages: unknown) => {
    const channel = isObject(channelRef) && typeof channelRef.$ref === 'string' ? channelRef.$ref : '';
    if (!channel.startsWith('#/channels/') || resolveRef(document, channel) === undefined) problems.push(`${where}: channel ${channel} is not a channel`);
    for (const message of Array.isArray(messages) ? messages : []) {
      const ref = isObject(message) ? String(message.$ref) : '';
      if (!ref.startsWith(`${channel}/messages/`)) problems.push(`${where}: message ${ref} is not one of ${channel}'s`);
    }
  };
  for (const [id, operation] of Object.entries(objectAt(document, 'operations'))) {
    if (!ASYNCAPI_ID.test(id)) problems.push(`operation id ${id}`);
    unknownFields(`operation ${id}`, operation, OPERATION_FIELDS);
    const { action, channel, messages, reply } = operation as Json;
    if (action !== 'send' && action !== 'receive') problems.push(`operation ${id}: action ${String(action)}`);
    checkMessages(`operation ${id}`, channel, messages);
    if (reply !== undefined) checkMessages(`operation ${id} reply`, (reply as Json).channel, (reply as Json).messages);
  }
  for (const ref of refsIn(document)) if (resolveRef(document, ref) === undefined) problems.push(`unresolved $ref ${ref}`);
  return problems;
}

/** One `curl` command of a Markdown document. */
export interface CurlExample {
  readonly document: string;
  readonly method: string;
  readonly url: URL;
  /** The `-d` body, parsed; `undefined` when none. */
  readonly body: unknown;
}

/** The `curl` commands in the fenced code blocks of `markdown`: method, URL and JSON body (shell quoting undone, lines joined). */
export function curlExamples(document: string, markdown: string): CurlExample[] {
  const examples: CurlExample[] = [];
  for (const [, block] of markdown.matchAll(/^ *```[a-z]*\n([\s\S]*?)^ *```/gm)) {
    for (const line of block!.replace(/\\\n/g, ' ').split('\n')) {
      const words = shellWords(line);
      const start = words.indexOf('curl');
      if (start < 0) continue;
      let method: string | undefined;
      let url: string | undefined;
      let body: string | undefined;
      const args = words.slice(start + 1);
      for (let i = 0; i < args.length; i += 1) {
        const arg = args[i]!;
        if (arg === '-X' || arg === '--request') method = args[++i];
        else if (['-d', '--data', '--data-raw'].includes(arg)) body = args[++i];
        else if (['-H', '--header', '-o', '-w'].includes(arg)) i += 1;
        else if (!arg.startsWith('-') && url === undefined) url = arg;
      }
      if (url === undefined) continue;
      examples.push({
        document,
        method: method ?? (body === undefined ? 'GET' : 'POST'),
        url: new URL(/^https?:\/\//.test(url) ? url : `http://${url}`),
        body: body === undefined ? undefined : JSON.parse(body),
      });
    }
  }
  return examples;
}

/** A shell line's words: quotes removed, nothing expanded, stopping at an unquoted `#` comment. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const char = line[i]!;
    if (char === "'" || char === '"') {
      const end = line.indexOf(char, i + 1);
      word = (word ?? '') + line.slice(i + 1, end < 0 ? undefined : end);
      i = end < 0 ? line.length : end;
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (char === '#' && word === undefined) {
      break;
    } else {
      word = (word ?? '') + char;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}
