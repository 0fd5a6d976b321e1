import cluster from 'node:cluster';
import { DOTENV_UNSUPPORTED, loadDotEnv } from './config/load-dotenv.js';
import { ConfigError, emptyToUndefined, loadConfig } from './config/load-config.js';
import type { Config } from './config/config.js';
import { redisTargetVariables } from './config/redis-target.js';
import { devBanner } from './runtime/dev-banner.js';
import { createGateway, type Gateway } from './gateway.js';
import { oneLineMessage } from './runtime/error-message.js';
import { listenErrorHint } from './runtime/listen-error.js';
import { createLogger, logFormatFor, type Logger } from './runtime/logger.js';
import { PoolWorker, WORKER_ENV } from './runtime/pool-worker.js';
import { sharedSecrets, WorkerPool } from './runtime/worker-pool.js';
import { redisUnreachableNotice } from './runtime/startup-notices.js';

/** How long the start waits for the engine (Redis) before saying it is unreachable; it answers in milliseconds when it is there. */
const ENGINE_WAIT_MS = 1500;

/** The variables that choose the ports this node listens on, with their values (for the EADDRINUSE hint). */
function listenerPorts(config: Config): Record<string, number | undefined> {
  const authPort = config.authService?.port;
  const metricsPort = Number(emptyToUndefined(process.env).METRICS_PORT);
  return {
    PORT: config.port,
    AUTH_PORT: typeof authPort === 'number' ? authPort : undefined,
    METRICS_PORT: Number.isInteger(metricsPort) ? metricsPort : undefined,
  };
}

/**
 * Waits a moment for the engine; when it is still not ready, says so before anything else: an error log
 * line, and in development the same in plain text above the banner.
 */
async function reportUnreachableEngine(gateway: Gateway, config: Config, logger: Logger): Promise<void> {
  const { redis } = config;
  if (redis === undefined) return;
  const deadline = Date.now() + ENGINE_WAIT_MS;
  while (!gateway.engineReady() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (gateway.engineReady()) return;
  const notice = redisUnreachableNotice(redis.target, redisTargetVariables(redis.target, emptyToUndefined(process.env)));
  logger.error(notice);
  if (config.nodeEnv !== 'production') process.stdout.write(`\n!! ${notice}\n`);
}

/** What the entry point runs until a signal: a gateway, or with WORKERS the primary of its workers. */
interface ServedNode {
  listen(): Promise<string>;
  close(): Promise<void>;
  readonly authUrl: string | undefined;
}

/**
 * How much longer than SHUTDOWN_TIMEOUT_MS the WORKERS primary waits for its workers (each bounded by it
 * already) before it kills those still running and exits with code 1.
 */
const WORKER_EXIT_GRACE_MS = 2000;

/**
 * The process entry point: `.env`, config, gateway, signals. With WORKERS above 1 this process is the
 * primary (`src/runtime/worker-pool.ts`) and each worker runs this entry point again as one gateway.
 * Exit codes: 0 clean stop, 1 bad config or failed start/stop.
 */
async function main(): Promise<void> {
  // A worker of WORKERS (forked by the primary, src/runtime/worker-pool.ts) takes its connections from the primary.
  const worker = cluster.isWorker && process.env[WORKER_ENV] === '1' ? new PoolWorker() : undefined;
  if (!loadDotEnv()) process.stderr.write(`switchboard: ${DOTENV_UNSUPPORTED}\n`);
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`switchboard: ${error.message}\n`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel, undefined, logFormatFor(config.nodeEnv, process.stdout.isTTY === true));
  // A background failure (e.g. inside a library, while Redis is away) is logged, never fatal.
  process.on('unhandledRejection', (reason: unknown) => logger.error({ err: reason }, 'unhandled rejection'));
  if (worker === undefined && cluster.isPrimary && config.workers > 1) {
    const pool = new WorkerPool({
      workers: config.workers, port: config.port, host: config.host, env: sharedSecrets(config, emptyToUndefined(process.env)), logger,
      idleTimeoutMs: config.httpRequestTimeoutMs, shutdownDelayMs: config.shutdownDelayMs, wholeBackendConnections: config.trustProxy === false,
    });
    await serve(pool, config, logger, { timeoutMs: config.shutdownTimeoutMs + WORKER_EXIT_GRACE_MS, onTimeout: () => pool.kill(), announce: true });
    return;
  }
  const gateway = await createGateway(config, logger, { worker });
  await reportUnreachableEngine(gateway, config, logger);
  const stop = await serve(gateway, config, logger, { timeoutMs: config.shutdownTimeoutMs, announce: worker === undefined });
  worker?.onShutdown(() => stop('SIGTERM'));
}

/**
 * Listens, announces (the CORS warning, the development banner), and stops gracefully on SIGTERM/SIGINT
 * within `timeoutMs` (exit 0, else 1). Returns the stop, for a worker whose primary says stop.
 */
async function serve(
  node: ServedNode,
  config: Config,
  logger: Logger,
  options: { readonly timeoutMs: number; readonly onTimeout?: () => void; readonly announce: boolean },
): Promise<(signal: NodeJS.Signals) => void> {
  let baseUrl: string;
  try {
    baseUrl = await node.listen();
  } catch (error) {
    const hint = listenErrorHint(error, listenerPorts(config));
    if (hint === undefined) throw error;
    process.stderr.write(`switchboard: ${hint}\n`);
    logger.flush();
    process.exit(1);
  }
  if (options.announce && config.corsOrigin !== '*' && config.corsOrigin.length === 0) {
    logger.warn('CORS_ORIGIN is not set: browsers on other origins cannot connect (clients without an Origin header can)');
  }
  const banner = options.announce ? await devBanner(config, baseUrl, node.authUrl) : undefined;
  if (banner !== undefined) process.stdout.write(`${banner}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: options.timeoutMs }, 'shutdown timed out');
      options.onTimeout?.();
      logger.flush();
      process.exit(1);
    }, options.timeoutMs);
    timer.unref();
    node.close().then(
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
  return stop;
}

main().catch((error: unknown) => {
  process.stderr.write(`switchboard: failed to start: ${oneLineMessage(error)}\n`);
  process.exit(1);
});
