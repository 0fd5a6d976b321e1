import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifySchemaCompiler } from 'fastify';
import { GatewayError } from '../protocol/errors.js';

/** Bodies are validated strictly (no type coercion); query strings and path params are coerced from text. */
const bodyAjv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: true, removeAdditional: false, strict: false });
const textAjv = new Ajv({ allErrors: false, coerceTypes: 'array', useDefaults: true, removeAdditional: false, strict: false });

/** The one validator compiler of the HTTP layer; failures become `INVALID_BODY`/`INVALID_QUERY` naming the field. */
export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  const validate = (httpPart === 'body' ? bodyAjv : textAjv).compile(schema);
  return (data: unknown) => (validate(data) ? { value: data } : { error: toValidationError(validate.errors, httpPart) });
};

/** Compiles a body schema for use outside a route (e.g. each item of a batch, `prefix` `[3]`). */
export function compileBodyValidator<T extends TSchema>(schema: T): (data: unknown, prefix: string) => Static<T> {
  const validate: ValidateFunction<Static<T>> = bodyAjv.compile<Static<T>>(schema);
  return (data, prefix) => {
    if (validate(data)) return data;
    throw toValidationError(validate.errors, 'body', prefix);
  };
}

function toValidationError(errors: ErrorObject[] | null | undefined, httpPart: string | undefined, prefix = ''): GatewayError {
  const first = errors?.[0];
  const part = httpPart === 'querystring' ? 'query' : httpPart === 'params' ? 'params' : 'body';
  const code = part === 'body' ? 'INVALID_BODY' : 'INVALID_QUERY';
  if (first === undefined) return new GatewayError(code);
  let field = join(prefix, first.instancePath.replace(/^\//, '').replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/\//g, '.'));
  let message = first.message ?? 'is invalid';
  if (first.keyword === 'required') {
    field = join(field, String(first.params.missingProperty));
    message = 'is required';
  } else if (first.keyword === 'additionalProperties') {
    field = join(field, String(first.params.additionalProperty));
    message = 'is not an accepted field';
  } else if (first.keyword === 'enum') {
    message = `must be one of ${(first.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  }
  const name = field.length > 0 ? field : part;
  return new GatewayError(code, `${name} ${message}`, { details: { field: name } });
}

/** Joins field path parts: `rooms` + `[0]` → `rooms[0]`, `[1]` + `event` → `[1].event`. */
function join(base: string, child: string): string {
  if (base.length === 0) return child;
  if (child.length === 0 || child.startsWith('[')) return base + child;
  return `${base}.${child}`;
}
