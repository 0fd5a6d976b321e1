import { pino, type DestinationStream, type Logger } from 'pino';

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

/** Creates the root structured (JSON) logger; components take `logger.child({ component })`. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'switchboard' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ sync: false }),
  );
}
