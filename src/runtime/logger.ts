import { pino, type DestinationStream, type Logger } from 'pino';
import PinoPretty from 'pino-pretty';

export type { Logger } from 'pino';

/**
 * Paths pino replaces with "[redacted]" wherever they appear in a log object. A second line of defence:
 * components log ids and codes, never credentials, and `test/logging.test.ts` greps the captured logs.
 */
const REDACT_PATHS = [
  'token', '*.token', 'apiKey', '*.apiKey', 'password', '*.password', 'secret', '*.secret',
  'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
  'headers["x-api-key"]', '*.headers["x-api-key"]', 'auth', '*.auth',
  // Fastify logs malformed requests as { err } with the raw bytes, headers (and keys) included.
  'err.rawPacket', '*.rawPacket',
];

/** What a credential is replaced with in the log, and wherever else one is shown (`switchboard check-config`). */
export const REDACTED = '[redacted]';

/** `scheme://user:password@` in any text: the password part is replaced. */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):[^\s/@]*@/gi;

/** `text` with the password of every `scheme://user:password@host` URL in it replaced by `[redacted]`. */
export function redactUrlPasswords(text: string): string {
  return text.replace(URL_PASSWORD, `$1:${REDACTED}@`);
}

/**
 * The `err` serializer: pino's standard one, then without what a dependency's error may carry of a
 * credential — a Redis client's failed command keeps only its name (ioredis attaches `command.args`, which
 * for HELLO/AUTH hold the password), and URL passwords in the message and stack are replaced.
 */
export function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const serialized: Record<string, unknown> = { ...pino.stdSerializers.err(error) };
  for (const key of ['message', 'stack'] as const) {
    const value = serialized[key];
    if (typeof value === 'string') serialized[key] = redactUrlPasswords(value);
  }
  const command: unknown = serialized.command;
  if (typeof command === 'object' && command !== null) {
    const name: unknown = (command as { name?: unknown }).name;
    serialized.command = typeof name === 'string' ? { name } : REDACTED;
  }
  return serialized;
}

/** How log lines are written: JSON lines, or pino-pretty's human-readable ones. */
export type LogFormat = 'json' | 'pretty';

/**
 * Human-readable lines when a person reads them (standard output is a terminal) outside production; JSON
 * lines for everything else (files, pipes, log collectors, the tests), whatever NODE_ENV says.
 */
export function logFormatFor(nodeEnv: string, stdoutIsTerminal: boolean): LogFormat {
  return stdoutIsTerminal && nodeEnv !== 'production' ? 'pretty' : 'json';
}

/**
 * Creates the root structured logger; components take `logger.child({ component })`. Redaction and the
 * error serializers apply before either format is written: pretty lines hold no more than JSON ones.
 */
export function createLogger(level: string, destination?: DestinationStream, format: LogFormat = 'json'): Logger {
  const options = {
    level,
    base: { service: 'switchboard' },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    serializers: { err: serializeError, error: serializeError },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (format === 'pretty') {
    const prettify = PinoPretty.prettyFactory({
      colorize: destination === undefined && PinoPretty.isColorSupported,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service',
      singleLine: true,
    });
    const target = destination ?? process.stdout;
    return pino(options, { write: (line: string) => void target.write(prettify(line)) });
  }
  return pino(options, destination ?? pino.destination({ sync: false }));
}
