import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifySchemaCompiler } from 'fastify';
import { compileValidator, type InputPart } from '../protocol/validation.js';

/** The one validator compiler of the HTTP layer: each route schema compiled by protocol/validation.ts. */
export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  // Route schemas are TypeBox schemas, or plain JSON Schema (`{ type: 'array' }`): Ajv compiles either.
  const { validate } = compileValidator(schema as TSchema, inputPartOf(httpPart));
  return (data: unknown) => validate(data);
};

/** Compiles a body schema for use outside a route (e.g. each item of a batch, named `[3]`). */
export function compileBodyValidator<T extends TSchema>(schema: T): (data: unknown, prefix: string) => Static<T> {
  return compileValidator(schema).check;
}

function inputPartOf(httpPart: string | undefined): InputPart {
  if (httpPart === 'body') return 'body';
  return httpPart === 'params' ? 'params' : 'query';
}
