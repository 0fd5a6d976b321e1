import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The dashboard's files: `admin-ui/` at the package root (beside `src/` and `dist/`, copied into the image). */
export const ADMIN_UI_DIR = new URL('../../../admin-ui/', import.meta.url);

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** One file of the dashboard, held in memory. */
export interface AdminAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

/**
 * Reads every servable file of `admin-ui/` once, at start-up (a handful of small files): requests are then
 * answered from memory, and only these names exist — no path from a URL ever reaches the file system.
 */
export function loadAdminAssets(dir: URL = ADMIN_UI_DIR): ReadonlyMap<string, AdminAsset> {
  if (!existsSync(dir)) {
    throw new Error(`The admin dashboard's files are missing (${fileURLToPath(dir)}): keep admin-ui/ beside dist/, or set ADMIN_UI=false`);
  }
  const assets = new Map<string, AdminAsset>();
  for (const name of readdirSync(dir)) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (contentType !== undefined) assets.set(name, { body: readFileSync(new URL(name, dir)), contentType });
  }
  return assets;
}
