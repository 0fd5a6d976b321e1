import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Options } from 'tsup';
import tsupConfig from '../../packages/client/tsup.config.js';
import { CLIENT_BUNDLE_NAME, CLIENT_DIST_DIR } from '../../src/http/client-bundle-routes.js';

const PACKAGE_DIR = new URL('../../packages/client/', import.meta.url);

/** Newest modification time of what the bundle is built from: the SDK's sources, its tsup config and package.json. */
function sourcesModifiedMs(): number {
  const src = new URL('src/', PACKAGE_DIR);
  const files = [
    ...readdirSync(src).map((name) => new URL(name, src)),
    new URL('tsup.config.ts', PACKAGE_DIR),
    new URL('package.json', PACKAGE_DIR),
  ];
  return Math.max(...files.map((file) => statSync(file).mtimeMs));
}

/** The tsup build of the `<script>` bundle alone (the ESM/CJS builds and their types are not needed by tests). */
function bundleBuild(): Options {
  const configs = [tsupConfig].flat().filter((config): config is Options => typeof config === 'object');
  const iife = configs.find((config) => [config.format ?? []].flat().includes('iife'));
  if (iife === undefined) throw new Error('packages/client/tsup.config.ts has no IIFE build');
  const entry = Object.fromEntries(Object.entries(iife.entry as Record<string, string>).map(([name, path]) => [name, fileURLToPath(new URL(path, PACKAGE_DIR))]));
  return { ...iife, entry, outDir: fileURLToPath(CLIENT_DIST_DIR), config: false, silent: true };
}

/**
 * Vitest's global setup: builds the Client SDK's browser bundle (what the gateway serves at
 * `/client/switchboard.min.js`, packages/client/dist/) once per run when it is missing or older than its
 * sources — a fresh clone's `npm test` works without `npm run build`. The IIFE alone: well under a second.
 */
export default async function buildClientBundle(): Promise<void> {
  const bundle = new URL(CLIENT_BUNDLE_NAME, CLIENT_DIST_DIR);
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= sourcesModifiedMs()) return;
  await build(bundleBuild());
}
