import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../src/protocol/errors.js';

describe('error catalog', () => {
  it('is documented in the README, code for code, with the same HTTP status', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.split('## Errors')[1]?.split('\n## ')[0] ?? '';
    const documented = Object.fromEntries(
      [...section.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((match) => [match[1], Number(match[2])]),
    );
    const catalog = Object.fromEntries(Object.entries(ERROR_CATALOG).map(([code, entry]) => [code, entry.status]));
    expect(documented).toEqual(catalog);
  });
});
