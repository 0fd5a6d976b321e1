import { defineConfig } from 'tsup';

/** ESM + CJS (with types) for Node 20 and bundlers, socket.io-client left a peer; one minified IIFE for `<script>`, global `Switchboard`. */
export default defineConfig([
  { entry: ['src/index.ts'], format: ['esm', 'cjs'], dts: true, target: 'node20', clean: true, sourcemap: true, external: ['socket.io-client'] },
  { entry: { 'switchboard.min': 'src/index.ts' }, format: ['iife'], globalName: 'Switchboard', minify: true, sourcemap: true, target: 'es2020', platform: 'browser', noExternal: ['socket.io-client'], outExtension: () => ({ js: '.js' }) },
]);
