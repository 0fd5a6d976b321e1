/**
 * Layers that only point down (docs/architecture.md). Each folder of src/ may import the folders listed
 * below it, never one above; the composition root (src/gateway.ts, src/main.ts) and the CLI sit on top.
 * `npx depcruise src` checks it by hand; test/architecture.test.ts checks it in `npm test`.
 */
const LAYERS = [
  ['protocol'],
  ['config'],
  ['runtime', 'stores', 'rooms', 'webhooks'],
  ['engine', 'auth'],
  ['realtime'],
  ['auth-service'],
  ['http'],
];

/** One rule per layer: nothing in it imports a folder of its own layer's siblings or above, but its own. */
const layerRules = LAYERS.flatMap((layer, index) => {
  const below = LAYERS.slice(0, index).flat();
  return layer.map((folder) => ({
    name: `layer-${folder}`,
    comment: `src/${folder} may import only ${below.length === 0 ? 'nothing else in src' : below.map((f) => `src/${f}`).join(', ')}`,
    severity: 'error',
    from: { path: `^src/${folder}/` },
    to: { path: '^src/', pathNot: `^src/(${[folder, ...below].join('|')})/` },
  }));
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import loop between files.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
