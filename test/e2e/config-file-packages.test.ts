// otel.config.* in real app folders: every extension, in packages of "type"
// module, commonjs (what `npm init -y` writes) and none, preloaded with --import
// and --require. A valid file starts with nothing on stderr, from Node or
// otelkit, and takes effect; a broken one gives exactly one otelkit line.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startChild, stopAll } from '../helpers/child.js';

type PackageType = 'module' | 'commonjs' | 'none';
type Ext = 'ts' | 'mts' | 'cts' | 'js' | 'mjs' | 'cjs';
type Body = 'esm' | 'cjs' | 'enum' | 'syntax-error' | 'throws';

interface Case {
  name: string;
  type: PackageType;
  ext: Ext;
  body: Body;
  preload: '--import' | '--require';
}

const EXTS: Ext[] = ['ts', 'mts', 'cts', 'js', 'mjs', 'cjs'];

/** The syntax each extension calls for in each kind of package. */
function fitting(type: PackageType, ext: Ext): 'esm' | 'cjs' {
  if (ext === 'mjs' || ext === 'mts' || ext === 'ts') return 'esm'; // .ts: the README's example, whatever the package
  if (ext === 'cjs' || ext === 'cts') return 'cjs';
  return type === 'module' ? 'esm' : 'cjs';
}

const cases: Case[] = [];
const add = (type: PackageType, ext: Ext, body: Body, preload: Case['preload']) =>
  cases.push({ name: `${type}-${ext}-${body}${preload === '--require' ? '-require' : ''}`, type, ext, body, preload });
for (const type of ['module', 'commonjs', 'none'] as const) {
  for (const ext of EXTS) {
    add(type, ext, fitting(type, ext), '--import');
    // A CommonJS app: every extension where the package says so, the ambiguous two where it says nothing.
    if (type === 'commonjs' || (type === 'none' && (ext === 'ts' || ext === 'js')))
      add(type, ext, fitting(type, ext), '--require');
  }
}
// TypeScript written as CommonJS is valid where the package is CommonJS.
add('commonjs', 'ts', 'cjs', '--import');
// An enum needs more than type stripping: otelkit's fallback loader, resolved from otelkit, not the app.
add('commonjs', 'ts', 'enum', '--import');
for (const ext of EXTS) add('commonjs', ext, 'syntax-error', '--import');
add('module', 'ts', 'syntax-error', '--import');
add('commonjs', 'ts', 'syntax-error', '--require');
add('commonjs', 'ts', 'throws', '--import');
add('module', 'mts', 'throws', '--require');

const valid = cases.filter((c) => c.body === 'esm' || c.body === 'cjs' || c.body === 'enum');
const broken = cases.filter((c) => !valid.includes(c));

/** A source file: the lines, each ended by a newline. */
function sourceLines(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

function configSource(c: Case): string {
  const settings = `{ serviceName: 'svc-${c.name}', prometheus: { path: '/m-${c.name}' } }`;
  const ts = c.ext.endsWith('ts');
  switch (c.body) {
    case 'esm':
      return sourceLines(
        "import { defineConfig } from 'otelkit';",
        ...(ts
          ? [
              `const settings: Parameters<typeof defineConfig>[0] = ${settings};`,
              'export default defineConfig(settings);',
            ]
          : [`export default defineConfig(${settings});`]),
      );
    case 'cjs':
      return sourceLines(
        "const { defineConfig } = require('otelkit');",
        `const serviceName${ts ? ': string' : ''} = 'svc-${c.name}';`,
        `module.exports = defineConfig({ serviceName, prometheus: { path: '/m-${c.name}' } });`,
      );
    case 'enum':
      return sourceLines(
        `enum Path { Metrics = '/m-${c.name}' }`,
        `export default { serviceName: 'svc-${c.name}', prometheus: { path: Path.Metrics } };`,
      );
    case 'syntax-error':
      return `export default {{\n`;
    case 'throws':
      return `throw new Error('config exploded');\n`;
  }
}

let root: string;
const results = new Map<string, { stdout: string; stderrLines: string[]; code: number | null }>();

/** Runs at most `limit` children at once (the machine has two cores). */
async function runAll(limit: number): Promise<void> {
  const queue = [...cases];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const child = startChild({
        args: [
          c.preload,
          join(REPO_ROOT, c.preload === '--import' ? 'dist/preload.js' : 'dist/preload.cjs'),
          'app.cjs',
        ],
        env: { OTELKIT_PROMETHEUS_SERVER: 'false', OTELKIT_INSTRUMENTATIONS: 'none' },
        cwd: join(root, c.name),
        maxLifetimeMs: 20_000,
      });
      const exit = await child.exited;
      results.set(c.name, {
        stdout: child.stdout,
        stderrLines: child.stderr.split('\n').filter((l) => l !== ''),
        code: exit.code,
      });
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'otelkit-cfgpkg-'));
  for (const c of cases) {
    const dir = join(root, c.name);
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    symlinkSync(REPO_ROOT, join(dir, 'node_modules/otelkit'));
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', ...(c.type === 'none' ? {} : { type: c.type }) }),
    );
    writeFileSync(join(dir, `otel.config.${c.ext}`), configSource(c));
    writeFileSync(
      join(dir, 'app.cjs'),
      sourceLines(
        "const { config } = require('otelkit').getOtelkit();",
        "const service = config.resourceAttributes['service.name'] ?? null;",
        'console.log(JSON.stringify({ path: config.prometheus.path, service }));',
      ),
    );
  }
  await runAll(3);
}, 120_000);

afterAll(async () => {
  await stopAll();
  rmSync(root, { recursive: true, force: true });
});

describe('a valid otel.config.* starts without a word on stderr and takes effect', () => {
  it.each(valid.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = results.get(c.name)!;
    expect(r.stderrLines).toEqual([]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ path: `/m-${c.name}`, service: `svc-${c.name}` });
  });
});

describe('a broken otel.config.* gives exactly one otelkit line and the defaults', () => {
  it.each(broken.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = results.get(c.name)!;
    expect(r.stderrLines).toHaveLength(1);
    const reason = c.body === 'throws' ? 'config exploded' : '.+';
    expect(r.stderrLines[0]).toMatch(
      new RegExp(
        `^otelkit: otel\\.config\\.${c.ext} failed to load \\(${reason}\\); using environment and defaults only$`,
      ),
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ path: '/metrics', service: null });
  });
});
