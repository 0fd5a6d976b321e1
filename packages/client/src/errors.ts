import type { ErrorBody } from './protocol.js';

/**
 * A refusal from the gateway, with the catalog's stable `code` (docs/errors.md). `transient` refusals carry
 * `retryAfterS` and are worth retrying; the others are final.
 */
export class SwitchboardError extends Error {
  readonly code: string;
  readonly retryAfterS: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(body: ErrorBody) {
    super(body.message);
    this.name = 'SwitchboardError';
    this.code = body.code;
    this.retryAfterS = body.retryAfterS;
    this.details = body.details;
  }

  get transient(): boolean {
    return this.retryAfterS !== undefined;
  }
}

/** The error body of a refusal (`{ error: { code, message } }`, seed 004's `{ status: false, error }`), if it is one. */
export function refusalOf(answer: unknown): ErrorBody | undefined {
  if (typeof answer !== 'object' || answer === null || !('error' in answer)) return undefined;
  const error = (answer as { error: unknown }).error;
  return isErrorBody(error) ? error : undefined;
}

export function isErrorBody(value: unknown): value is ErrorBody {
  return typeof value === 'object' && value !== null && typeof (value as ErrorBody).code === 'string' && typeof (value as ErrorBody).message === 'string';
}

/** An ack as its answer, or its refusal thrown as a {@link SwitchboardError}. */
export function answerOrThrow<T>(answer: unknown): T {
  const refusal = refusalOf(answer);
  if (refusal !== undefined) throw new SwitchboardError(refusal);
  return answer as T;
}
