// The Prometheus compatibility settings (issue 15): prefix, resource labels, scope
// labels and prom-client runtime names are read from env and config, and a bad value
// is one line naming the setting, the value and what is accepted.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';

describe('Prometheus compatibility settings', () => {
  it('are off by default', () => {
    const { config } = resolveConfig({}, []);
    expect(config.prometheus.prefix).toBeUndefined();
    expect(config.prometheus.resourceLabels).toEqual([]);
    expect(config.prometheus.scopeLabels).toBe(true);
    expect(config.runtime.names).toBe('otel');
  });

  it('are read from the environment', () => {
    const { config, problems } = resolveConfig(
      {
        OTELKIT_PROMETHEUS_PREFIX: 'myapp_',
        OTELKIT_PROMETHEUS_RESOURCE_LABELS: 'service.name, deployment.environment.name',
        OTELKIT_PROMETHEUS_SCOPE_LABELS: 'false',
        OTELKIT_RUNTIME_NAMES: 'prom-client',
      },
      [],
    );
    expect(problems).toEqual([]);
    expect(config.prometheus).toMatchObject({
      prefix: 'myapp',
      resourceLabels: ['service.name', 'deployment.environment.name'],
      scopeLabels: false,
    });
    expect(config.runtime.names).toBe('prom-client');
  });

  it('are read from a config file, below the environment', () => {
    const { config, problems } = resolveConfig({ OTELKIT_PROMETHEUS_PREFIX: 'fromenv' }, [
      {
        label: 'otel.config.ts',
        config: {
          prometheus: { prefix: 'fromfile', resourceLabels: ['service.name'], scopeLabels: false },
          runtime: { names: 'prom-client' },
        },
      },
    ]);
    expect(problems).toEqual([]);
    expect(config.prometheus).toMatchObject({
      prefix: 'fromenv',
      resourceLabels: ['service.name'],
      scopeLabels: false,
    });
    expect(config.runtime.names).toBe('prom-client');
    expect(resolveConfig({}, [{ label: 'f', config: { prometheus: { prefix: '' } } }]).config.prometheus.prefix).toBe(
      '',
    );
  });

  it.each([
    [{ OTELKIT_PROMETHEUS_PREFIX: 'my-app' }, ['OTELKIT_PROMETHEUS_PREFIX="my-app"', 'starting with a letter']],
    [{ OTELKIT_PROMETHEUS_PREFIX: '9lives' }, ['"9lives"', 'e.g. myapp', 'using nothing']],
    [{ OTELKIT_PROMETHEUS_PREFIX: 'ns:app' }, ['"ns:app"']],
    [{ OTELKIT_PROMETHEUS_RESOURCE_LABELS: 'service.name,le' }, ['OTELKIT_PROMETHEUS_RESOURCE_LABELS', 'le is']],
    [{ OTELKIT_PROMETHEUS_RESOURCE_LABELS: 'otel.scope.name' }, ['otel_scope_name is otelkit']],
    [{ OTELKIT_PROMETHEUS_RESOURCE_LABELS: 'service.name,service_name' }, ['both the label service_name']],
    [{ OTELKIT_PROMETHEUS_RESOURCE_LABELS: '1st.attr' }, ['cannot start with a digit']],
    [{ OTELKIT_PROMETHEUS_SCOPE_LABELS: 'no' }, ['OTELKIT_PROMETHEUS_SCOPE_LABELS="no"', 'true or false']],
    [
      { OTELKIT_RUNTIME_NAMES: 'prometheus' },
      ['OTELKIT_RUNTIME_NAMES="prometheus"', 'otel, prom-client', 'using otel'],
    ],
  ])('%j is one line, and the default is kept', (env, mentions) => {
    const { config, problems } = resolveConfig(env, []);
    expect(problems).toHaveLength(1);
    expect(problems[0]).not.toContain('\n');
    for (const m of mentions) expect(problems[0]).toContain(m);
    expect(config.prometheus.prefix).toBeUndefined();
    expect(config.prometheus.resourceLabels).toEqual([]);
    expect(config.prometheus.scopeLabels).toBe(true);
    expect(config.runtime.names).toBe('otel');
  });

  it('a bad value in a config file names the file and the key', () => {
    const { config, problems } = resolveConfig({}, [
      { label: 'register()', config: { runtime: { names: 'prom' as 'otel' } } },
      { label: 'otel.config.ts', config: { prometheus: { resourceLabels: [42] as unknown as string[] } } },
    ]);
    expect(problems).toEqual([
      expect.stringMatching(/^otel\.config\.ts: prometheus\.resourceLabels=\[42\] is invalid: expected a comma list/),
      'register(): runtime.names="prom" is invalid: expected one of otel, prom-client; using otel',
    ]);
    expect(config.prometheus.resourceLabels).toEqual([]);
  });
});
