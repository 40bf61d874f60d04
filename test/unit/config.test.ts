import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { SETTINGS } from '../../src/config/settings.js';
import { OTELKIT_VERSION } from '../../src/version.js';
import pkg from '../../package.json' with { type: 'json' };

const emptyDir = () => mkdtempSync(join(tmpdir(), 'otelkit-cfg-'));

describe('bad settings: one line naming the setting, the value and what is accepted; default kept', () => {
  const cases: {
    env: Record<string, string>;
    path: (c: ReturnType<typeof defaultConfig>) => unknown;
    mentions: string[];
  }[] = [
    {
      env: { OTEL_EXPORTER_PROMETHEUS_PORT: 'abc' },
      path: (c) => c.prometheus.port,
      mentions: ['OTEL_EXPORTER_PROMETHEUS_PORT', '"abc"', '0 to 65535', 'using 9464'],
    },
    {
      env: { OTEL_EXPORTER_PROMETHEUS_PORT: '70000' },
      path: (c) => c.prometheus.port,
      mentions: ['"70000"', '0 to 65535'],
    },
    {
      env: { OTEL_METRICS_EXPORTER: 'prometheus,zipkin' },
      path: (c) => c.exporters,
      mentions: ['OTEL_METRICS_EXPORTER', 'zipkin', 'prometheus, otlp, console', 'using prometheus'],
    },
    {
      env: { OTELKIT_HISTOGRAM_BUCKETS: 'http.server.request.duration=0.1,0.05' },
      path: (c) => c.histogramBuckets,
      mentions: ['OTELKIT_HISTOGRAM_BUCKETS', 'increasing'],
    },
    {
      env: { OTELKIT_HISTOGRAM_BUCKETS: 'task.duration=1,two' },
      path: (c) => c.histogramBuckets,
      mentions: ['"task.duration=1,two"'],
    },
    {
      env: { OTEL_RESOURCE_ATTRIBUTES: 'team=payments,broken' },
      path: (c) => c.resourceAttributes,
      mentions: ['OTEL_RESOURCE_ATTRIBUTES', 'key=value', 'ignoring it'],
    },
    {
      env: { OTEL_RESOURCE_ATTRIBUTES: 'team=%E0%A4%A' },
      path: (c) => c.resourceAttributes,
      mentions: ['percent-encoded'],
    },
    {
      env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' },
      path: (c) => c.otlp.protocol,
      mentions: ['OTEL_EXPORTER_OTLP_PROTOCOL', 'http/protobuf, http/json, grpc'],
    },
    {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
      path: (c) => c.otlp.endpoint,
      mentions: ['OTEL_EXPORTER_OTLP_ENDPOINT', 'http:// or https:// URL'],
    },
    {
      env: { OTEL_EXPORTER_OTLP_TIMEOUT: '-5' },
      path: (c) => c.otlp.timeoutMs,
      mentions: ['OTEL_EXPORTER_OTLP_TIMEOUT', 'greater than 0'],
    },
    { env: { OTEL_EXPORTER_OTLP_COMPRESSION: 'brotli' }, path: (c) => c.otlp.compression, mentions: ['gzip, none'] },
    {
      env: { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'sometimes' },
      path: (c) => c.otlp.temporality,
      mentions: ['cumulative, delta, lowmemory'],
    },
    {
      env: { OTEL_METRIC_EXPORT_INTERVAL: '1m' },
      path: (c) => c.exportIntervalMs,
      mentions: ['OTEL_METRIC_EXPORT_INTERVAL'],
    },
    { env: { OTEL_SDK_DISABLED: 'yes' }, path: (c) => c.disabled, mentions: ['OTEL_SDK_DISABLED', 'true or false'] },
    { env: { OTEL_LOG_LEVEL: 'loud' }, path: (c) => c.logLevel, mentions: ['OTEL_LOG_LEVEL', 'debug'] },
    {
      env: { OTELKIT_CARDINALITY_LIMIT: '0' },
      path: (c) => c.cardinalityLimit,
      mentions: ['OTELKIT_CARDINALITY_LIMIT'],
    },
    {
      env: { OTELKIT_PROMETHEUS_PATH: 'metrics' },
      path: (c) => c.prometheus.path,
      mentions: ['OTELKIT_PROMETHEUS_PATH', 'starting with /'],
    },
    {
      env: { OTELKIT_INSTRUMENTATIONS: 'http-server,kafka' },
      path: (c) => c.instrumentations,
      mentions: ['OTELKIT_INSTRUMENTATIONS', 'runtime-eventloop', 'all'],
    },
    {
      env: { OTELKIT_HTTP_MODE: 'patch' },
      path: (c) => c.http.mode,
      mentions: ['OTELKIT_HTTP_MODE', 'diagnostics-channel, instrumentation-http'],
    },
  ];

  it.each(cases)('$env', ({ env, path, mentions }) => {
    const { config, problems } = resolveConfig(env, []);
    expect(problems).toHaveLength(1);
    expect(problems[0]).not.toContain('\n');
    for (const m of mentions) expect(problems[0]).toContain(m);
    expect(path(config)).toEqual(path(defaultConfig()));
  });

  it('every setting rejects garbage with a message rather than a throw', () => {
    for (const setting of SETTINGS) {
      const env = Object.fromEntries(setting.env.map((name) => [name, '\u0000{[garbage']));
      if (
        setting.path === 'prometheus.host' ||
        setting.path === 'prometheus.token' ||
        setting.path === 'http.excludePaths'
      )
        continue; // free-form strings
      const { problems } = resolveConfig(env, []);
      expect(problems.length, setting.path).toBeGreaterThan(0);
    }
  });
});

describe('precedence: env, then register() options, then config file, then defaults', () => {
  it('env beats options beats file', () => {
    const { config, problems } = resolveConfig({ OTEL_EXPORTER_PROMETHEUS_PORT: '9999' }, [
      { label: 'register()', config: { prometheus: { port: 1111, path: '/m' } } },
      { label: 'otel.config.ts', config: { prometheus: { port: 2222, path: '/file', host: '0.0.0.0' } } },
    ]);
    expect(problems).toEqual([]);
    expect(config.prometheus).toMatchObject({ port: 9999, path: '/m', host: '0.0.0.0' });
  });

  it('an invalid env value falls back to the next source, and says so', () => {
    const { config, problems } = resolveConfig({ OTEL_EXPORTER_PROMETHEUS_PORT: 'x' }, [
      { label: 'otel.config.ts', config: { prometheus: { port: 1234 } } },
    ]);
    expect(config.prometheus.port).toBe(1234);
    expect(problems[0]).toMatch(/OTEL_EXPORTER_PROMETHEUS_PORT="x".*using 1234$/);
  });

  it('signal-specific OTLP variables beat generic ones; the generic endpoint is a base', () => {
    const base = resolveConfig(
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_METRICS_EXPORTER: 'otlp' },
      [],
    ).config;
    expect(base.otlp.endpoint).toBe('http://collector:4318/v1/metrics');
    expect(base.exporters).toEqual(['otlp']);
    const specific = resolveConfig(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://b:9000/custom',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-a=1',
        OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-b=2%203',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      },
      [],
    ).config;
    expect(specific.otlp).toMatchObject({
      endpoint: 'http://b:9000/custom',
      headers: { 'x-b': '2 3' },
      protocol: 'http/json',
    });
    const grpc = resolveConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, []).config;
    expect(grpc.otlp.endpoint).toBe('http://localhost:4317');
  });

  it('service name: OTEL_SERVICE_NAME over OTEL_RESOURCE_ATTRIBUTES over config', () => {
    const { config } = resolveConfig(
      {
        OTEL_SERVICE_NAME: 'checkout',
        OTEL_RESOURCE_ATTRIBUTES: 'service.name=ignored,deployment.environment.name=prod',
      },
      [{ label: 'otel.config.ts', config: { serviceName: 'from-file', resourceAttributes: { team: 'payments' } } }],
    );
    expect(config.resourceAttributes).toEqual({
      'service.name': 'checkout',
      'deployment.environment.name': 'prod',
      team: 'payments',
    });
  });

  it('parses lists, buckets and special words', () => {
    const { config, problems } = resolveConfig(
      {
        OTEL_METRICS_EXPORTER: 'none',
        OTELKIT_INSTRUMENTATIONS: 'all',
        OTELKIT_HISTOGRAM_BUCKETS: 'http.server.request.duration=0.01,0.05,0.1,0.5,1;task.duration=1,10,100',
        OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'base2_exponential_bucket_histogram',
      },
      [],
    );
    expect(problems).toEqual([]);
    expect(config.exporters).toEqual([]);
    expect(config.instrumentations).toEqual(['http-server', 'http-client', 'runtime']);
    expect(config.histogramBuckets).toEqual({
      'http.server.request.duration': [0.01, 0.05, 0.1, 0.5, 1],
      'task.duration': [1, 10, 100],
    });
    expect(config.otlp.histogram).toBe('exponential');
  });

  it('warns that exponential histograms cannot reach Prometheus', () => {
    const { problems } = resolveConfig(
      {
        OTEL_METRICS_EXPORTER: 'prometheus,otlp',
        OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'base2_exponential_bucket_histogram',
      },
      [],
    );
    expect(problems).toEqual([expect.stringContaining('Prometheus text format cannot carry them')]);
  });
});

describe('config files', () => {
  it('loads otel.config.ts from the working directory, typed through defineConfig', () => {
    const dir = emptyDir();
    writeFileSync(
      join(dir, 'otel.config.ts'),
      `
      const defineConfig = <T,>(c: T): T => c;
      const port: number = 4321;
      export default defineConfig({ prometheus: { port }, serviceName: 'from-ts' });
    `,
    );
    const { config, problems } = loadConfig(undefined, {}, dir);
    expect(problems).toEqual([]);
    expect(config.prometheus.port).toBe(4321);
    expect(config.resourceAttributes['service.name']).toBe('from-ts');
  });

  it('loads .mjs and .cjs through OTELKIT_CONFIG', () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'a.mjs'), `export default { cardinalityLimit: 7 };`);
    writeFileSync(join(dir, 'b.cjs'), `module.exports = { cardinalityLimit: 8 };`);
    expect(loadConfig(undefined, { OTELKIT_CONFIG: 'a.mjs' }, dir).config.cardinalityLimit).toBe(7);
    expect(loadConfig(undefined, { OTELKIT_CONFIG: join(dir, 'b.cjs') }, dir).config.cardinalityLimit).toBe(8);
  });

  it.each([
    ['a file that throws', 'otel.config.mjs', `throw new Error('boom');`, /otel\.config\.mjs failed to load \(boom\)/],
    ['a syntax error', 'otel.config.ts', `export default {{`, /otel\.config\.ts failed to load/],
    ['the wrong shape', 'otel.config.mjs', `export default 42;`, /otel\.config\.mjs: expected an object of settings/],
    ['an unknown key', 'otel.config.mjs', `export default { prometeus: {} };`, /unknown setting "prometeus"/],
    [
      'a bad value',
      'otel.config.mjs',
      `export default { prometheus: { port: 70000 } };`,
      /otel\.config\.mjs: prometheus\.port=70000 is invalid: expected an integer from 0 to 65535.*using 9464/,
    ],
  ])('%s gives one line and the defaults', (_label, name, body, message) => {
    const dir = emptyDir();
    writeFileSync(join(dir, name), body);
    const { config, problems } = loadConfig(undefined, {}, dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
    expect(config.prometheus.port).toBe(9464);
  });

  it('a missing OTELKIT_CONFIG file is reported', () => {
    const { problems } = loadConfig(undefined, { OTELKIT_CONFIG: 'nope.ts' }, emptyDir());
    expect(problems[0]).toMatch(/OTELKIT_CONFIG="nope.ts": no file at .*nope\.ts/);
  });
});

it('the version constant matches package.json', () => {
  expect(OTELKIT_VERSION).toBe(pkg.version);
});

it('docs/configuration.md documents every variable otelkit reads', async () => {
  const { readFileSync } = await import('node:fs');
  const { SPECIAL_ENV } = await import('../../src/config/settings.js');
  const readme = readFileSync(join(import.meta.dirname, '../../docs/configuration.md'), 'utf8');
  const documented = new Set(
    [...readme.matchAll(/^\| `([A-Z_]+)`(?:, `([A-Z_]+)`)?/gm)].flatMap((m) => [m[1], m[2]]).filter(Boolean),
  );
  const read = [...SETTINGS.flatMap((s) => s.env), ...Object.values(SPECIAL_ENV)];
  expect(read.filter((name) => !documented.has(name))).toEqual([]);
});

describe('review fixes', () => {
  it('OTEL_SDK_DISABLED follows the spec: only "true" disables, "1" is reported', () => {
    expect(resolveConfig({ OTEL_SDK_DISABLED: 'TRUE' }, []).config.disabled).toBe(true);
    const { config, problems } = resolveConfig({ OTEL_SDK_DISABLED: '1' }, []);
    expect(config.disabled).toBe(false);
    expect(problems).toEqual(['OTEL_SDK_DISABLED="1" is invalid: expected true or false; using false']);
  });

  it('an invalid signal endpoint names the endpoint actually used', () => {
    const { config, problems } = resolveConfig(
      { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'nope', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318' },
      [],
    );
    expect(config.otlp.endpoint).toBe('http://base:4318/v1/metrics');
    expect(problems).toEqual([
      'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT="nope" is invalid: expected an http:// or https:// URL, ' +
        'e.g. http://collector:4318; using http://base:4318/v1/metrics',
    ]);
  });

  it('OTLP headers merge config < generic env < signal env, key by key', () => {
    const { config } = resolveConfig(
      { OTEL_EXPORTER_OTLP_HEADERS: 'a=env,b=env', OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'b=metrics' },
      [{ label: 'otel.config.ts', config: { otlp: { headers: { a: 'file', c: 'file' } } } }],
    );
    expect(config.otlp.headers).toEqual({ a: 'env', b: 'metrics', c: 'file' });
  });

  it('an export timeout longer than the interval is reported and capped', () => {
    const { config, problems } = resolveConfig(
      { OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '1000', OTEL_METRIC_EXPORT_TIMEOUT: '5000' },
      [],
    );
    expect(config.exportTimeoutMs).toBe(1000);
    expect(problems).toEqual([
      'OTEL_METRIC_EXPORT_TIMEOUT (5000 ms) is longer than OTEL_METRIC_EXPORT_INTERVAL (1000 ms); using 1000',
    ]);
  });

  it('the default export timeout is capped at a shorter interval without a word', () => {
    for (const env of [
      { OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '15000' },
      { OTEL_METRICS_EXPORTER: 'otlp,prometheus', OTEL_METRIC_EXPORT_INTERVAL: '1000' },
    ]) {
      const { config, problems } = resolveConfig(env, []);
      expect(problems).toEqual([]);
      expect(config.exportTimeoutMs).toBe(Number(env.OTEL_METRIC_EXPORT_INTERVAL));
    }
    const { config, problems } = resolveConfig({}, [
      { label: 'otel.config.ts', config: { exporters: ['otlp'], exportIntervalMs: 15000 } },
    ]);
    expect(problems).toEqual([]);
    expect(config.exportTimeoutMs).toBe(15000);
  });

  it('an export timeout the user set is still reported, naming where it came from', () => {
    const env = resolveConfig(
      { OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '15000', OTEL_METRIC_EXPORT_TIMEOUT: '30000' },
      [],
    );
    expect(env.config.exportTimeoutMs).toBe(15000);
    expect(env.problems).toEqual([
      'OTEL_METRIC_EXPORT_TIMEOUT (30000 ms) is longer than OTEL_METRIC_EXPORT_INTERVAL (15000 ms); using 15000',
    ]);
    const file = resolveConfig({ OTEL_METRIC_EXPORT_INTERVAL: '15000' }, [
      { label: 'register()', config: { exporters: ['otlp'] } },
      { label: 'otel.config.ts', config: { exportTimeoutMs: 30000 } },
    ]);
    expect(file.config.exportTimeoutMs).toBe(15000);
    expect(file.problems).toEqual([
      'otel.config.ts: exportTimeoutMs (30000 ms) is longer than OTEL_METRIC_EXPORT_INTERVAL (15000 ms); using 15000',
    ]);
    const defaultInterval = resolveConfig({ OTEL_METRICS_EXPORTER: 'otlp' }, [
      { label: 'register()', config: { exportTimeoutMs: 90000 } },
    ]);
    expect(defaultInterval.config.exportTimeoutMs).toBe(60000);
    expect(defaultInterval.problems).toEqual([
      'register(): exportTimeoutMs (90000 ms) is longer than the default ' +
        'OTEL_METRIC_EXPORT_INTERVAL (60000 ms); using 60000',
    ]);
  });

  it('a host with spaces is rejected on one line', () => {
    const { config, problems } = resolveConfig({ OTEL_EXPORTER_PROMETHEUS_HOST: 'local host' }, []);
    expect(config.prometheus.host).toBe('localhost');
    expect(problems[0]).toMatch(/^OTEL_EXPORTER_PROMETHEUS_HOST="local host" is invalid/);
  });

  it('runtime groups can be listed one by one; the HTTP mode is read', () => {
    const { config, problems } = resolveConfig(
      { OTELKIT_INSTRUMENTATIONS: 'http-server, runtime-gc,runtime-heap', OTELKIT_HTTP_MODE: 'instrumentation-http' },
      [],
    );
    expect(problems).toEqual([]);
    expect(config.instrumentations).toEqual(['http-server', 'runtime-gc', 'runtime-heap']);
    expect(config.http.mode).toBe('instrumentation-http');
  });

  it('a disabled start does not load the config file', () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'otel.config.mjs'), `throw new Error('must not load');`);
    expect(loadConfig(undefined, { OTEL_SDK_DISABLED: 'true' }, dir).problems).toEqual([]);
  });
});
