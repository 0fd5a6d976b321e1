// Prints the client's sizes, minified and minified+gzipped, as JSON: `npm run size -w @switchboard/client`.
// - `sdk`: the SDK alone, socket.io-client left out (what it adds on top of socket.io-client);
// - `bundle`: the browser bundle the gateway serves, socket.io-client included (what tsup.config.ts builds).
// test/client-sdk-size.test.ts holds the SDK to its budget (8 KB min+gzip on top of socket.io-client).
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('./src/index.ts', import.meta.url));

async function sizeOf(options) {
  const result = await build({ entryPoints: [entry], bundle: true, minify: true, write: false, target: 'es2020', platform: 'browser', ...options });
  const code = result.outputFiles[0].contents;
  return { minBytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length };
}

const sizes = {
  sdk: await sizeOf({ format: 'esm', external: ['socket.io-client'] }),
  bundle: await sizeOf({ format: 'iife', globalName: 'Switchboard' }),
};
console.log(JSON.stringify(sizes));
