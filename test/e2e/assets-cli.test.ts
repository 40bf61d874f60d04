// `otelkit assets` as a user runs it: the built command in a child process (exit
// codes, one-line errors, files written), and `npx otelkit assets` in a fresh app
// that installed the packed tarball (so only what the package ships and depends on).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { shippedFiles } from '../../assets/shipped.js';
import pkg from '../../package.json' with { type: 'json' };

const root = join(import.meta.dirname, '..', '..');
const CLI = join(root, 'dist/cli.js');
/** Node 24 (the one running the tests) first on PATH, as a user's `node` would be. */
const env = { PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`, HOME: process.env.HOME };

let dir: string;
beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'otelkit-cli-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], cwd = dir, extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...env, ...extraEnv },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CONFIG = `import { defineConfig } from 'otelkit';
export default defineConfig({
  serviceName: 'checkout',
  slos: [{ name: 'checkout', route: '/checkout', objective: 0.999, latency: { threshold: 0.25, objective: 0.99 } }],
  alerts: { httpErrorRatio: { threshold: 0.02, for: '10m' }, heapGrowth: false },
});
`;

const filesUnder = (path: string) =>
  readdirSync(path, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(json|yml)$/.test(f))
    .sort();

describe('otelkit assets (the built command)', () => {
  it('--help: the usage, exit 0', () => {
    for (const args of [['--help'], ['assets', '--help'], []]) {
      const r = run(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage: otelkit assets --out <dir> [options]');
      expect(r.stdout).toContain('--slo-config');
    }
  });

  it.each([
    [['assets', '--outt', 'x'], 'unknown option "--outt"; options: --out, --config'],
    [['assets', '--out'], '--out needs a value, e.g. --out ./monitoring'],
    [['assets', '--out', 'x', '--config'], '--config needs a value, e.g. --config otel.config.ts'],
    [['assets'], '--out <dir> is required'],
    [['dashboards'], 'unknown command "dashboards"'],
    [['assets', '--out', 'x', '--target', 'app'], '--target "app" is invalid: expected host:port'],
    [['assets', '--out', 'x', '--prefix', '9x'], '--prefix "9x" is invalid: expected letters, digits and _, starting'],
  ])('%j: a usage error, exit 2', (args, message) => {
    const r = run(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`otelkit: ${message}${r.stderr.slice(`otelkit: ${message}`.length)}`);
    expect(r.stderr.trim().split('\n')).toHaveLength(2);
    expect(r.stderr).toContain('Run otelkit --help for the options.');
  });

  it('a directory that cannot be written: one line, exit 1', () => {
    writeFileSync(join(dir, 'a-file'), 'x');
    const r = run(['assets', '--out', 'a-file/monitoring']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^otelkit assets: cannot write to \S+a-file\/monitoring \(.*ENOTDIR.*\); choose another --out\n$/,
    );
  });

  it.each([
    [
      "slos: [{ name: 'x', route: '/x', latency: { threshold: 0.3, objective: 0.99 } }]",
      'otel.config.ts: slos[0] ("x").latency.threshold=0.3 is not a bucket boundary of http.server.request.duration; ' +
        'a latency SLO counts the requests of one bucket, so use one of 0.005, 0.01, 0.025',
    ],
    [
      "slos: [{ name: 'x', route: '/x' }]",
      'otel.config.ts: slos[0] ("x") sets neither objective (availability) nor latency: expected at least one',
    ],
    [
      'alerts: { httpErrorRatio: { for: 5 } }',
      'otel.config.ts: alerts.httpErrorRatio.for=5 is invalid: expected a Prometheus duration, e.g. 5m',
    ],
  ])('a bad setting (%s): what is accepted, exit 1, nothing written', (setting, message) => {
    const app = mkdtempSync(join(dir, 'bad-'));
    writeFileSync(join(app, 'otel.config.ts'), `export default { ${setting} };\n`);
    const r = run(['assets', '--out', 'monitoring', '--slo-config', 'otel.config.ts'], app);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`otelkit assets: ${message}`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(app, 'monitoring'))).toBe(false);
  });

  it('a config file that is missing or does not load: one line, exit 1', () => {
    const app = mkdtempSync(join(dir, 'broken-'));
    expect(run(['assets', '--out', 'm', '--config', 'nope.ts'], app).stderr).toMatch(
      /^otelkit assets: --config: no file at \S+nope\.ts\n$/,
    );
    writeFileSync(join(app, 'otel.config.ts'), 'export default {{\n');
    const r = run(['assets', '--out', 'm', '--config', 'otel.config.ts'], app);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^otelkit assets: otel\.config\.ts failed to load \(.+\)\n$/);
  });

  it('with no config: exactly the files the package ships in monitoring/', () => {
    const r = run(['assets', '-o', 'defaults']);
    expect(r.code, r.stderr).toBe(0);
    const shipped = shippedFiles();
    expect(filesUnder(join(dir, 'defaults'))).toEqual(Object.keys(shipped).sort());
    for (const [path, text] of Object.entries(shipped))
      expect(readFileSync(join(dir, 'defaults', path), 'utf8'), path).toBe(text);
    expect(r.stdout).toContain(`wrote ${Object.keys(shipped).length} files to ${join(dir, 'defaults')}`);
  });

  it('--target, --job, --prometheus-url reach prometheus.yml and the data source', () => {
    const r = run([
      'assets',
      '--out=custom',
      '--target=api:9464',
      '--job',
      'api',
      '--prometheus-url',
      'http://prom:9090',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const prometheus = parse(readFileSync(join(dir, 'custom/prometheus.yml'), 'utf8'));
    expect(prometheus.scrape_configs).toEqual([{ job_name: 'api', static_configs: [{ targets: ['api:9464'] }] }]);
    const datasources = parse(readFileSync(join(dir, 'custom/provisioning/datasources/otelkit.yml'), 'utf8'));
    expect(datasources.datasources[0].url).toBe('http://prom:9090');
  });
});

describe('otelkit assets: the Prometheus prefix', () => {
  /** The prefixes written before http_server_request_duration_seconds_bucket (not in recording-rule names). */
  function prefixWritten(out: string): string[] {
    const found = (text: string) =>
      [...text.matchAll(/(?<![\w:])(\w*)http_server_request_duration_seconds_bucket/g)].map((m) => m[1]!);
    const dashboard = readFileSync(join(out, 'dashboards/otelkit-service.json'), 'utf8');
    const rules = readFileSync(join(out, 'rules/otelkit-recording.rules.yml'), 'utf8');
    return [...new Set([...found(dashboard), ...found(rules)])];
  }

  it('from --prefix, else as the app resolves it: OTELKIT_PROMETHEUS_PREFIX over the config file', () => {
    const app = mkdtempSync(join(dir, 'prefix-'));
    writeFileSync(join(app, 'otel.config.mjs'), "export default { prometheus: { prefix: 'filep' } };\n");
    const cases: [string[], Record<string, string>, string][] = [
      [[], {}, ''],
      [['--prefix', 'optp_'], {}, 'optp_'], // a trailing _ is accepted, as by the app
      [[], { OTELKIT_PROMETHEUS_PREFIX: 'envp' }, 'envp_'],
      [['--config', 'otel.config.mjs'], {}, 'filep_'],
      [['--config', 'otel.config.mjs'], { OTELKIT_PROMETHEUS_PREFIX: 'envp' }, 'envp_'],
      [['--config', 'otel.config.mjs', '--prefix', 'optp'], { OTELKIT_PROMETHEUS_PREFIX: 'envp' }, 'optp_'],
    ];
    cases.forEach(([args, extraEnv, prefix], i) => {
      const r = run(['assets', '--out', `out${i}`, ...args], app, extraEnv);
      expect(r.code, r.stderr).toBe(0);
      expect(prefixWritten(join(app, `out${i}`)), JSON.stringify([args, extraEnv])).toEqual([prefix]);
    });
  });

  it('an invalid prefix in the environment or the config file: what is accepted, exit 1', () => {
    const app = mkdtempSync(join(dir, 'bad-prefix-'));
    writeFileSync(join(app, 'otel.config.mjs'), "export default { prometheus: { prefix: 'my-app' } };\n");
    const env = run(['assets', '--out', 'm'], app, { OTELKIT_PROMETHEUS_PREFIX: '9x' });
    expect(env.code).toBe(1);
    expect(env.stderr).toBe(
      'otelkit assets: OTELKIT_PROMETHEUS_PREFIX="9x" is invalid: expected letters, digits and _, ' +
        'starting with a letter, e.g. myapp\n',
    );
    const file = run(['assets', '--out', 'm', '--config', 'otel.config.mjs'], app);
    expect(file.code).toBe(1);
    expect(file.stderr).toMatch(/^otelkit assets: otel\.config\.mjs: prometheus\.prefix="my-app" is invalid: .+\n$/);
    expect(existsSync(join(app, 'm'))).toBe(false);
  });
});

describe('npx otelkit assets in a fresh app, from the packed tarball', () => {
  it('writes the files, SLO rules and alert settings from otel.config.ts', { timeout: 120_000 }, () => {
    const work = mkdtempSync(join(dir, 'pack-'));
    const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(pack.status, pack.stderr).toBe(0);
    const tarball = `file:../${pack.stdout.trim().split('\n').pop()}`;
    const app = join(work, 'app');
    mkdirSync(app);
    // Offline: a lock file made of the repository's own (production) entries lets npm ci install from its cache.
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; devOptional?: boolean; peer?: boolean; optional?: boolean }>;
    };
    const dependencies = { otelkit: tarball, '@opentelemetry/api': pkg.devDependencies['@opentelemetry/api'] };
    const packages: Record<string, unknown> = {
      '': { name: 'fresh-app', version: '1.0.0', dependencies },
      'node_modules/otelkit': {
        version: pkg.version,
        resolved: tarball,
        dependencies: pkg.dependencies,
        peerDependencies: pkg.peerDependencies,
        peerDependenciesMeta: pkg.peerDependenciesMeta,
        bin: pkg.bin,
      },
    };
    for (const [path, { dev, devOptional, ...info }] of Object.entries(lock.packages)) {
      if (path === '' || (dev && path !== 'node_modules/@opentelemetry/api') || (info.peer && info.optional)) continue;
      packages[path] = info;
    }
    const manifest = { name: 'fresh-app', version: '1.0.0', type: 'module', dependencies };
    writeFileSync(join(app, 'package.json'), JSON.stringify(manifest));
    writeFileSync(join(app, 'package-lock.json'), JSON.stringify({ ...manifest, lockfileVersion: 3, packages }));
    const install = spawnSync('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
      cwd: app,
      env,
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(install.status, install.stderr).toBe(0);
    expect(existsSync(join(app, 'node_modules/@grafana')), 'the Grafana SDK is a devDependency').toBe(false);
    writeFileSync(join(app, 'otel.config.ts'), CONFIG);

    const r = spawnSync(
      'npx',
      ['--offline', 'otelkit', 'assets', '--out', 'monitoring', '--slo-config', 'otel.config.ts'],
      {
        cwd: app,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(filesUnder(join(app, 'monitoring'))).toEqual(
      [...Object.keys(shippedFiles()), 'rules/otelkit-slos.rules.yml'].sort(),
    );
    const alerts = readFileSync(join(app, 'monitoring/rules/otelkit-alerts.rules.yml'), 'utf8');
    expect(alerts).toContain('expr: job_route:http_server_error_ratio:rate5m > 0.02\n        for: 10m\n');
    expect(alerts).not.toContain('OtelkitHeapGrowing');
    const slos = parse(readFileSync(join(app, 'monitoring/rules/otelkit-slos.rules.yml'), 'utf8'));
    expect(slos.groups.map((g: { name: string }) => g.name)).toEqual(['otelkit-slo-checkout']);
  });
});
