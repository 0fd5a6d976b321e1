import { redactUrlPasswords } from './logger.js';

/**
 * One line about `error` for a person: its message's first line, with any `scheme://user:password@` URL
 * password replaced. A failed connection to every address of a host is an AggregateError without a message
 * (Node's happy-eyeballs connect): its causes are joined instead.
 */
export function oneLineMessage(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') return error.errors.map(oneLineMessage).join('; ');
  if (error instanceof Error) return redactUrlPasswords(error.message.split('\n')[0] || error.name);
  return redactUrlPasswords(String(error));
}
