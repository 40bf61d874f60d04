// The published shape: types resolve for ESM and CJS consumers, both builds load
// and share one otelkit state, and only one copy of each SDK package is installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');

describe('package', () => {
  it('type-checks as an ESM and a CJS consumer', { timeout: 120_000 }, () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', 'test/fixtures/consumer-types/tsconfig.json'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('import and require of otelkit share one registration', () => {
    const script = `
      import { createRequire } from 'node:module';
      import { register } from 'otelkit';
      const cjs = createRequire(import.meta.url)('otelkit');
      const a = register({ prometheus: { port: 0, host: '127.0.0.1' }, instrumentations: [] });
      console.log(JSON.stringify({ same: cjs.getOtelkit() === a, cjsRegister: typeof cjs.register }));
      await a.shutdown();
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ same: true, cjsRegister: 'function' });
  });

  it('installs one copy of each OpenTelemetry SDK package', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string; dev?: boolean }>;
    };
    for (const name of [
      'sdk-metrics',
      'sdk-logs',
      'core',
      'resources',
      'otlp-transformer',
      'otlp-exporter-base',
      'exporter-prometheus',
    ]) {
      const copies = Object.entries(lock.packages).filter(
        ([path, info]) =>
          path.endsWith(`node_modules/@opentelemetry/${name}`) && !path.includes('otlp-proto') && !info.dev,
      );
      expect(
        copies.map(([path, info]) => `${path}@${info.version}`),
        name,
      ).toHaveLength(1);
    }
  });
});
