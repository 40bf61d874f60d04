import { defineConfig } from 'tsup';

// Two entries, each as ESM and CJS with types: the package (index) and the preload (the `otelkit/register`
// export); the OTLP export thread's script; and the `otelkit` command (package.json "bin": dist/cli.js).
// Shared state lives on globalThis (src/process-singleton.ts), so an app that loads both formats still
// gets one provider.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    preload: 'src/preload.ts',
    'otlp-worker': 'src/exporters/otlp-worker.ts',
    cli: 'assets/cli/main.ts',
  },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts', preload: 'src/preload.ts', 'otlp-worker': 'src/exporters/otlp-worker.ts' } },
  target: 'node22',
  platform: 'node',
  sourcemap: true,
  clean: true,
  shims: true,
  outExtension: ({ format }) => ({ js: format === 'cjs' ? '.cjs' : '.js' }),
  // The CJS build loads packages on demand (the OTLP exporters) with require(), so a
  // CJS app gets their CJS builds, next to the CJS SDK otelkit already uses, rather
  // than a second, ESM copy of the SDK.
  esbuildOptions(options, { format }) {
    if (format === 'cjs') options.supported = { ...options.supported, 'dynamic-import': false };
  },
});
