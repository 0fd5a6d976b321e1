import { DOTENV_UNSUPPORTED, loadDotEnv } from './config/load-dotenv.js';
import { ConfigError, loadConfig } from './config/load-config.js';
import { devBanner } from './runtime/dev-banner.js';
import { createGateway } from './gateway.js';
import { createLogger } from './runtime/logger.js';

/** The process entry point: `.env`, config, gateway, signals. Exit codes: 0 clean stop, 1 bad config or failed start/stop. */
async function main(): Promise<void> {
  if (!loadDotEnv()) process.stderr.write(`switchboard: ${DOTENV_UNSUPPORTED}\n`);
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`switchboard: ${error.message}\n`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  // A background failure (e.g. inside a library, while Redis is away) is logged, never fatal.
  process.on('unhandledRejection', (reason: unknown) => logger.error({ err: reason }, 'unhandled rejection'));
  const gateway = await createGateway(config, logger);
  const baseUrl = await gateway.listen();
  if (config.corsOrigin !== '*' && config.corsOrigin.length === 0) {
    logger.warn('CORS_ORIGIN is not set: browsers on other origins cannot connect (clients without an Origin header can)');
  }
  const banner = await devBanner(config, baseUrl, gateway.authUrl);
  if (banner !== undefined) process.stdout.write(`${banner}\n`);

  const stop = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out');
      logger.flush();
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    gateway.close().then(
      () => {
        logger.flush();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`switchboard: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
