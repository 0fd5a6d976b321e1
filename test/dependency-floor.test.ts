import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The advisories of the packages that parse what clients and backends send, and the release of each major
 * line that fixed them. docs/security.md lists exactly these rows.
 */
const ADVISORIES: readonly { readonly pkg: string; readonly id: string; readonly fixed: readonly string[] }[] = [
  { pkg: 'socket.io-parser', id: 'CVE-2022-2421', fixed: ['4.2.1', '4.0.5'] },
  { pkg: 'socket.io-parser', id: 'CVE-2023-32695', fixed: ['4.2.3'] },
  { pkg: 'engine.io', id: 'CVE-2022-21676', fixed: ['6.1.1'] },
  { pkg: 'engine.io', id: 'CVE-2022-41940', fixed: ['6.2.1'] },
  { pkg: 'engine.io', id: 'CVE-2023-31125', fixed: ['6.4.2'] },
  { pkg: 'ws', id: 'CVE-2021-32640', fixed: ['7.4.6'] },
  { pkg: 'ws', id: 'CVE-2024-37890', fixed: ['8.17.1', '7.5.10'] },
  { pkg: 'fastify', id: 'CVE-2025-32442', fixed: ['5.3.2'] },
  { pkg: 'jose', id: 'CVE-2024-28176', fixed: ['5.2.3', '4.15.5'] },
];

type Version = readonly [number, number, number];

/** `major.minor.patch` as numbers; a pre-release (`-rc.1`) or anything unparsable is refused (null). */
function parseVersion(version: string): Version | null {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  return match === null ? null : [Number(match[1]), Number(match[2]), Number(match[3])];
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * Whether `version` has the fix: it is at least the fixed release of its own major line, or newer than the
 * newest fixed release (a later major line). An older major line with no fixed release listed is refused.
 */
function hasFix(version: string, fixed: readonly string[]): boolean {
  const v = parseVersion(version);
  const releases = fixed.map((release) => parseVersion(release)!);
  if (v === null) return false;
  const sameLine = releases.find((release) => release[0] === v[0]);
  if (sameLine !== undefined) return compare(v, sameLine) >= 0;
  return releases.every((release) => v[0] > release[0]);
}

const ROOT = resolve(import.meta.dirname, '..');
const WATCHED = new Set(ADVISORIES.map((advisory) => advisory.pkg));

/** Every installed copy of the watched packages: `node_modules/x`, and nested `…/node_modules/x` under any package. */
function installedCopies(dir = join(ROOT, 'node_modules'), found: { pkg: string; path: string; version: string }[] = []): typeof found {
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    const names = entry.startsWith('@') ? readdirSync(join(dir, entry)).map((name) => `${entry}/${name}`) : [entry];
    for (const name of names) {
      const path = join(dir, name);
      const manifest = join(path, 'package.json');
      if (WATCHED.has(name) && existsSync(manifest)) {
        found.push({ pkg: name, path, version: (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version });
      }
      installedCopies(join(path, 'node_modules'), found);
    }
  }
  return found;
}

describe('dependency floor', () => {
  it('refuses versions below a fix, and accepts those with it', () => {
    expect(hasFix('4.2.2', ['4.2.3'])).toBe(false);
    expect(hasFix('4.2.3', ['4.2.3'])).toBe(true);
    expect(hasFix('4.10.0', ['4.2.3'])).toBe(true);
    expect(hasFix('3.4.1', ['4.2.3'])).toBe(false);
    expect(hasFix('6.4.1', ['6.4.2'])).toBe(false);
    expect(hasFix('8.17.0', ['8.17.1', '7.5.10'])).toBe(false);
    expect(hasFix('7.5.9', ['8.17.1', '7.5.10'])).toBe(false);
    expect(hasFix('7.5.10', ['8.17.1', '7.5.10'])).toBe(true);
    expect(hasFix('6.0.0', ['5.2.3', '4.15.5'])).toBe(true);
    expect(hasFix('5.2.2', ['5.2.3', '4.15.5'])).toBe(false);
    expect(hasFix('5.3.2-rc.1', ['5.3.2'])).toBe(false);
  });

  it('finds every installed copy of the watched packages, each with every fix', () => {
    const copies = installedCopies();
    // Each watched package is installed (several copies of ws: socket.io's engine.io and the clients' own).
    expect([...new Set(copies.map((copy) => copy.pkg))].sort()).toEqual([...WATCHED].sort());
    const missing = copies.flatMap(({ pkg, path, version }) =>
      ADVISORIES.filter((advisory) => advisory.pkg === pkg && !hasFix(version, advisory.fixed)).map(
        (advisory) => `${path.slice(ROOT.length + 1)} ${version} lacks the fix of ${advisory.id} (${advisory.fixed.join(' / ')})`,
      ),
    );
    expect(missing).toEqual([]);
  });

  it('is listed in docs/security.md, one row per advisory', () => {
    const rows = readFileSync(join(ROOT, 'docs/security.md'), 'utf8')
      .split('\n')
      .map((line) => /^\| `([^`]+)` \| (CVE-\d+-\d+) \| ([\d. /]+) \|/.exec(line))
      .filter((match) => match !== null)
      .map((match) => ({ pkg: match[1], id: match[2], fixed: match[3]!.split(' / ').map((release) => release.trim()) }));
    expect(rows).toEqual(ADVISORIES);
  });
});
