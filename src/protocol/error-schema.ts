import { Type, type Static } from '@sinclair/typebox';
import { ERROR_CATALOG, type ErrorBody, type ErrorCode } from './errors.js';

/**
 * The catalog's error shape as a schema: what every HTTP refusal answers, every refused socket event is
 * acked with, and `connect_error` carries as `err.data` (the inner `error`). The OpenAPI and AsyncAPI
 * documents reference it as their one error component; `code` is an enum of the whole catalog. It describes
 * {@link ErrorBody} (test/openapi.test.ts checks that the two types agree).
 */
export const ErrorBodySchema = Type.Object(
  {
    code: Type.Unsafe<ErrorCode>({ type: 'string', enum: Object.keys(ERROR_CATALOG), description: 'A stable code of the catalog (docs/errors.md): switch on it' }),
    message: Type.String({ description: 'What went wrong, for people; may be reworded' }),
    retryAfterS: Type.Optional(Type.Integer({ minimum: 0, description: 'On transient refusals only: seconds to wait before retrying (HTTP answers also send Retry-After)' })),
    details: Type.Optional(Type.Unsafe<Record<string, unknown>>({
      type: 'object', additionalProperties: {}, description: 'Machine-readable facts, e.g. the failing `field` or the `allowed` events',
    })),
  },
  { additionalProperties: false },
);

/** `{ error: { code, message, retryAfterS?, details? } }`: an HTTP refusal's body and a refused socket event's ack. */
export const ErrorAnswerSchema = Type.Object({ error: ErrorBodySchema }, { additionalProperties: false, title: 'Error' });
export type ErrorAnswer = Static<typeof ErrorAnswerSchema>;
