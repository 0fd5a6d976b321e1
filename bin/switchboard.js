#!/usr/bin/env node
// The `switchboard` command (package.json "bin"; `npm run users` runs it too). In a clone after `npm ci` it
// runs the TypeScript sources through tsx, so nothing is built first; where there are no sources or no tsx
// (the Docker image, an install without dev dependencies) it runs the compiled dist/cli/switchboard.js.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/switchboard.ts', import.meta.url);
const compiled = new URL('../dist/cli/switchboard.js', import.meta.url);

/** tsx's loader registered for this process, or false when it is not installed or cannot register here. */
async function registerTsx() {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    return true;
  } catch {
    return false;
  }
}

if (existsSync(source) && (await registerTsx())) {
  await import(source.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  process.stderr.write('switchboard: neither tsx (npm ci) nor the compiled dist/ (npm run build) is here\n');
  process.exitCode = 1;
}
