import { defineConfig, type Options } from 'tsup';

// The package (index) and the preload (the `otelkit/register` export), each as ESM and CJS
// with types; the OTLP export thread's script; and the `otelkit` command (package.json
// "bin": dist/cli.js). Shared state lives on globalThis (src/process-singleton.ts), so an
// app that loads both formats still gets one provider.
const shared: Options = {
  format: ['esm', 'cjs'],
  target: 'node22',
  platform: 'node',
  sourcemap: true,
  shims: true,
  outExtension: ({ format }) => ({ js: format === 'cjs' ? '.cjs' : '.js' }),
};

// The SDK packages the main thread uses are bundled into dist: Node then resolves and compiles
// a few files at start-up instead of some 150 (the larger part of the preload's start-up).
// `@opentelemetry/api` stays external, the peer: the global registration must use the app's copy.
const BUNDLED = [/^@opentelemetry\/(core|exporter-prometheus|resources|sdk-metrics|semantic-conventions)$/];

export default defineConfig([
  {
    ...shared,
    entry: { index: 'index.ts', preload: 'src/preload.ts', cli: 'assets/cli/main.ts' },
    dts: { entry: { index: 'index.ts', preload: 'src/preload.ts' } },
    // The two builds run at once: this one cleans dist, except what the other one writes.
    clean: ['!otlp-worker.*'],
    noExternal: BUNDLED,
    // The SDK packages' ES module builds, which esbuild can tree-shake (their main field is CJS).
    esbuildOptions(options, { format }) {
      options.mainFields = ['module', 'main'];
      options.conditions = ['import', 'default'];
      // The CJS build loads packages on demand with require(), so a CJS app gets their CJS builds.
      if (format === 'cjs') options.supported = { ...options.supported, 'dynamic-import': false };
    },
    // One copy of otelkit and the bundled SDK in CJS too: preload.cjs and index.cjs share chunks.
    splitting: true,
  },
  {
    // The export thread runs in its own isolate and loads the configured exporter package, which
    // brings its own SDK packages from node_modules: it keeps them external.
    ...shared,
    entry: { 'otlp-worker': 'src/exporters/otlp-worker.ts' },
    clean: false,
    esbuildOptions(options, { format }) {
      if (format === 'cjs') options.supported = { ...options.supported, 'dynamic-import': false };
    },
  },
]);
