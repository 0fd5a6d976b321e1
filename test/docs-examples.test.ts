import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { renderEnvExample } from '../src/config/env-example.js';
import { describeVariables } from '../src/config/env-schema.js';
import { problemsOf } from './support/config.js';

/** The document holding the production `.env` example. */
const README = new URL('../README.md', import.meta.url);

/** The body of the first fenced code block of `markdown` whose first line is `# .env`. */
function dotEnvBlock(markdown: string): string {
  const block = /^```[a-z]*\n# \.env\n([\s\S]*?)^```$/m.exec(markdown);
  if (block === null) throw new Error('no fenced block starting with "# .env" in the README');
  return block[1]!;
}

/** KEY=VALUE lines; blank lines and `#` comment lines skipped. The example keeps to this subset of .env. */
function parseKeyValues(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match === null) throw new Error(`not a KEY=VALUE line: ${line}`);
    env[match[1]!] = match[2]!;
  }
  return env;
}

describe('README examples', () => {
  it('the production .env example loads without problems', () => {
    const block = dotEnvBlock(readFileSync(README, 'utf8'));
    const env = parseKeyValues(block);
    expect(env.NODE_ENV).toBe('production');
    // The gateway reads .env with process.loadEnvFile (Node.js 20.12+), whose parser util.parseEnv exposes.
    if (typeof parseEnv === 'function') expect(parseEnv(block)).toEqual(env);
    expect(problemsOf(env)).toEqual([]);
    const config = loadConfig(env);
    expect(config.nodeEnv).toBe('production');
    expect(config.apiKeys).toEqual(env.API_KEYS!.split(','));
    expect(config.jwt.secret).toBe(env.JWT_SECRET);
    expect(Object.values(config.generated).filter((value) => value !== undefined)).toEqual([]);
  });
});

describe('docs', () => {
  it('name only source files and folders that exist', () => {
    const root = new URL('..', import.meta.url);
    const documents = ['README.md', 'bench/README.md', ...readdirSync(new URL('docs/', root)).map((name) => `docs/${name}`)];
    const missing: string[] = [];
    let named = 0;
    for (const document of documents) {
      for (const [, path] of readFileSync(new URL(document, root), 'utf8').matchAll(/`((?:src|test|bench)\/[\w./-]*\w\/?)`/g)) {
        if (path!.startsWith('bench/results/') || path!.startsWith('test/artifacts/')) continue; // what `npm run bench` and the browser tests write
        named += 1;
        if (!existsSync(new URL(path!, root))) missing.push(`${document}: ${path}`);
      }
    }
    expect(missing).toEqual([]);
    expect(named).toBeGreaterThan(30); // the check really reads the paths the docs name
  });
});

describe('.env.example', () => {
  const text = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');

  it('is what `switchboard genconfig` writes from the schema: every variable once, documented, all commented out', () => {
    expect(text).toBe(renderEnvExample());
    const names = [...text.matchAll(/^# ([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]);
    expect(names).toEqual(describeVariables().map((variable) => variable.name));
    // Nothing is active until uncommented (the gateway reads .env with process.loadEnvFile, whose parser this is).
    if (typeof parseEnv === 'function') expect(parseEnv(text)).toEqual({});
    const comments = text.replace(/\n# /g, ' ');
    for (const { name, doc } of describeVariables()) expect(comments, name).toContain(doc);
  });

  it('uncommented, its defaults are a valid configuration, the same as leaving them unset', () => {
    const defaults = Object.fromEntries([...text.matchAll(/^# ([A-Z][A-Z0-9_]*)=(.+)$/gm)].map((match) => [match[1]!, match[2]!]));
    expect(Object.keys(defaults).length).toBeGreaterThan(50);
    const secrets = { API_KEYS: 'env-example-key-0123456789', JWT_SECRET: 'env-example-secret-0123456789abcdef' };
    expect(problemsOf({ ...defaults, ...secrets })).toEqual([]);
    expect(loadConfig({ ...defaults, ...secrets })).toEqual(loadConfig(secrets));
  });
});
