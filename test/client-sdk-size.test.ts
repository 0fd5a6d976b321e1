import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/** The budget issue 14 set: what the SDK adds on top of socket.io-client, minified and gzipped. */
const SDK_BUDGET_GZIP_BYTES = 8 * 1024;

describe('client SDK size (packages/client/size.mjs)', () => {
  it('adds at most 8 KB min+gzip on top of socket.io-client; the browser bundle includes socket.io-client', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['packages/client/size.mjs'], { cwd: new URL('..', import.meta.url) });
    const sizes = JSON.parse(stdout) as { sdk: { minBytes: number; gzipBytes: number }; bundle: { minBytes: number; gzipBytes: number } };
    console.log(`client SDK sizes: ${stdout.trim()}`);
    expect(sizes.sdk.gzipBytes).toBeLessThanOrEqual(SDK_BUDGET_GZIP_BYTES);
    // socket.io-client itself is in the bundle and not in the SDK alone (about 12 KB min+gzip of it).
    expect(sizes.bundle.gzipBytes - sizes.sdk.gzipBytes).toBeGreaterThan(8 * 1024);
  });
});
