import { createRequire } from 'node:module';
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { describe, expect, it } from 'vitest';

/** The rule file `npx depcruise src` reads: layers that only point down, no import loops. */
const rules = createRequire(import.meta.url)('../.dependency-cruiser.cjs') as IConfiguration;

async function cruiseSources(): Promise<ICruiseResult> {
  const reporterOutput = await cruise(['src'], { ruleSet: rules, validate: true, tsPreCompilationDeps: true, doNotFollow: { path: 'node_modules' } }, undefined, {
    tsConfig: extractTSConfig('tsconfig.json'),
  });
  return reporterOutput.output as ICruiseResult;
}

describe('architecture', () => {
  it('has no import loop and no folder importing a layer above it', async () => {
    const result = await cruiseSources();
    const violations = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
    expect(violations).toEqual([]);
    // The rules are really applied: every source file was read and its imports resolved to files.
    expect(result.modules.filter((m) => m.source.startsWith('src/')).length).toBeGreaterThan(100);
    expect(result.modules.find((m) => m.source === 'src/gateway.ts')?.dependencies.some((d) => d.resolved === 'src/engine/engine.ts')).toBe(true);
  });
});
