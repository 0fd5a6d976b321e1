import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AdminFeed } from '../http/admin/admin-feed.js';
import { loadAdminAssets } from '../http/admin/admin-assets.js';
import { AdminSessions, type SessionPins } from '../http/admin/admin-sessions.js';
import { readSnapshot, type SnapshotSources } from '../http/admin/admin-snapshot.js';
import { adminSurface, type AdminOptions } from '../http/admin/admin-surface.js';
import { fromFastifyError } from '../http/error-handler.js';
import type { Publisher } from '../realtime/publisher.js';
import type { RecentActivity, RefusalRecorder } from '../runtime/recent-activity.js';

/** How often the feed sends a snapshot to open dashboards. */
const FEED_INTERVAL_MS = 1000;

/** How often the publisher's counter is read into the per-second series (a fraction of a second, so counts land in their second). */
const PUBLISH_SAMPLE_MS = 250;

/**
 * Tells `recorder` the catalog code of every refused HTTP request: Fastify's `onError` sees what guards,
 * validation and routes throw, on every route registered after it (so call it before the surfaces).
 */
export function countHttpRefusals(app: FastifyInstance, recorder: RefusalRecorder): void {
  app.addHook('onError', async (_request, _reply, error) => recorder.refused(fromFastifyError(error).code));
}

/** What the dashboard is built from, besides what its routes need. */
export interface AdminDashboardDeps extends Omit<AdminOptions, 'adminSessions' | 'feed' | 'assets'>, Omit<SnapshotSources, 'publishedCount'> {
  readonly activity: RecentActivity;
  readonly publisher: Publisher;
  readonly sessionTtlMs: number;
  /** With WORKERS: this worker's pins, so each dashboard's requests reach the worker holding its session. */
  readonly sessionPins?: SessionPins;
  readonly logger: Logger;
}

/**
 * Mounts the admin dashboard at `/admin` (ADMIN_UI) and starts feeding its publication series: the
 * publisher's counter, read a few times a second. The feed's streams end when the HTTP server closes.
 * Answers what stops the sampling.
 */
export async function mountAdminDashboard(app: FastifyInstance, deps: AdminDashboardDeps): Promise<{ close(): void }> {
  const { activity, publisher } = deps;
  let counted = publisher.publishedCount;
  const sampler = setInterval(() => {
    const now = publisher.publishedCount;
    activity.countPublished(now - counted);
    counted = now;
  }, PUBLISH_SAMPLE_MS).unref();
  const sessions = new AdminSessions(deps.sessionTtlMs, Date.now, deps.sessionPins);
  const feed = new AdminFeed(
    () => readSnapshot({ ...deps, publishedCount: () => publisher.publishedCount }),
    (session) => sessions.get(session.id) !== undefined,
    FEED_INTERVAL_MS,
    deps.logger,
  );
  app.addHook('preClose', async () => feed.end('shutting-down'));
  await app.register(adminSurface, { ...deps, prefix: '/admin', adminSessions: sessions, feed, assets: loadAdminAssets() });
  return { close: () => clearInterval(sampler) };
}
