import { Ajv, type ErrorObject } from 'ajv';
import type { Static, TSchema } from '@sinclair/typebox';
import { GatewayError } from './errors.js';
import { NAME_PATTERN } from './names.js';

/**
 * The one way Switchboard checks what arrives on the wire: a TypeBox schema per input (HTTP bodies, query
 * strings, path params and socket payloads), compiled once by Ajv into a validator whose refusal is the
 * catalog's `INVALID_BODY` (`INVALID_QUERY` for query strings and params) with `details: { field }` naming
 * the first field that does not fit and a message `"<field> <what is wrong>"`.
 *
 * TypeBox + Ajv for wire inputs because Fastify validates routes with it, it compiles to fast validators,
 * and the same schemas are JSON Schema for the OpenAPI/AsyncAPI documents and SDK types. The environment
 * is parsed with zod instead (src/config/env-schema.ts): every variable arrives as a string and needs
 * transforms (`15m` → seconds, comma lists, booleans) and defaults, which zod expresses directly.
 */

/**
 * Which input a schema checks. Bodies and socket payloads are checked strictly (no type coercion); query
 * strings and path params are text, coerced to the schema's types. The part also names the whole input in
 * a refusal that is about the input itself (`"body must be object"`).
 */
export type InputPart = 'body' | 'payload' | 'query' | 'params';

export type Validation<T> = { readonly value: T } | { readonly error: GatewayError };

/** A schema compiled once; each function may be called on its own (none uses `this`). */
export interface InputValidator<T> {
  /**
   * `{ value }` when `data` fits, else `{ error }` (the refusal). `name` names the input in refusals and
   * prefixes its fields: an item of a batch `[3]` (→ `[3].event`), a socket payload sent as its one field
   * alone `room` (→ `room`); none for a whole body or payload.
   */
  readonly validate: (data: unknown, name?: string) => Validation<T>;
  /** The value, typed, or throws the refusal (a {@link GatewayError}). */
  readonly check: (data: unknown, name?: string) => T;
  /** True when `data` fits; builds no refusal. */
  readonly matches: (data: unknown) => data is T;
}

const strictAjv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: true, removeAdditional: false, strict: false });
const textAjv = new Ajv({ allErrors: false, coerceTypes: 'array', useDefaults: true, removeAdditional: false, strict: false });

/** Compiles `schema` once for `part` (default: a body). */
export function compileValidator<T extends TSchema>(schema: T, part: InputPart = 'body'): InputValidator<Static<T>> {
  const ajvValidate = (part === 'query' || part === 'params' ? textAjv : strictAjv).compile<Static<T>>(schema);
  const matches = (data: unknown): data is Static<T> => ajvValidate(data);
  const validate = (data: unknown, name = ''): Validation<Static<T>> =>
    matches(data) ? { value: data } : { error: toRefusal(ajvValidate.errors, part, name) };
  const check = (data: unknown, name?: string): Static<T> => {
    const result = validate(data, name);
    if ('error' in result) throw result.error;
    return result.value;
  };
  return { validate, check, matches };
}

function toRefusal(errors: ErrorObject[] | null | undefined, part: InputPart, name: string): GatewayError {
  const code = part === 'query' || part === 'params' ? 'INVALID_QUERY' : 'INVALID_BODY';
  const first = explainingError(errors ?? []);
  if (first === undefined) return new GatewayError(code);
  let field = join(name, first.instancePath.replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/^\//, '').replace(/\//g, '.'));
  let message = first.message ?? 'is invalid';
  if (first.keyword === 'required') {
    field = join(field, String(first.params.missingProperty));
    message = 'is required';
  } else if (first.keyword === 'additionalProperties') {
    field = join(field, String(first.params.additionalProperty));
    message = 'is not an accepted field';
  } else if (first.keyword === 'pattern' && first.params.pattern === NAME_PATTERN) {
    message = 'must not contain control characters';
  } else if (first.keyword === 'enum') {
    message = `must be one of ${(first.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  }
  const named = field.length > 0 ? field : part;
  return new GatewayError(code, `${named} ${message}`, { details: { field: named } });
}

/**
 * The error that says what is wrong: the first, except that for a union (`anyOf`: a room name, or
 * `{ room }`) Ajv lists the first error of every branch, and a branch whose type the value does not even
 * have explains nothing — `{ nope: 1 }` is missing `room`, it is not "not a string".
 */
function explainingError(errors: readonly ErrorObject[]): ErrorObject | undefined {
  const unions = errors.filter((error) => error.keyword === 'anyOf');
  const wrongBranch = (error: ErrorObject) =>
    error.keyword === 'type' && unions.some((union) => union.instancePath === error.instancePath && error.schemaPath.startsWith(`${union.schemaPath}/`));
  return errors.find((error) => error.keyword !== 'anyOf' && !wrongBranch(error)) ?? errors[0];
}

/** Joins field path parts: `rooms` + `[0]` → `rooms[0]`, `[1]` + `event` → `[1].event`. */
function join(base: string, child: string): string {
  if (base.length === 0) return child;
  if (child.length === 0 || child.startsWith('[')) return base + child;
  return `${base}.${child}`;
}

/**
 * `schema` with `examples`, an annotation that changes nothing in validation: the OpenAPI document shows
 * them as the request examples, and test/openapi.test.ts checks them against the document and sends them.
 */
export function withExamples<T extends TSchema>(schema: T, ...examples: unknown[]): T {
  return { ...schema, examples };
}
