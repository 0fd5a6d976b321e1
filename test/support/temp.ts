import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `name` with a random suffix (`alice-3f9c0a1b`): user ids, sessions and data prefixes no other test uses. */
export function unique(name: string): string {
  return `${name}-${randomBytes(4).toString('hex')}`;
}

const dirs: string[] = [];

/**
 * A new empty directory under the system's temp dir, named `switchboard-{label}-…`. Removed after the test
 * file (test/support/setup.ts), or when the process exits (the bench).
 */
export function freshDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `switchboard-${label}-`));
  dirs.push(dir);
  return dir;
}

/** Removes every directory {@link freshDir} made so far. */
export function removeFreshDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

process.once('exit', removeFreshDirs);
