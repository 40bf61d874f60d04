// The health and /stats settings: defaults, environment, and one clear line for a bad value.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';

describe('health settings', () => {
  it('defaults: /health/live (open), /health/ready, /stats, windows of 1, 5 and 15 minutes', () => {
    const { config, problems } = resolveConfig({}, []);
    expect(problems).toEqual([]);
    expect(config.health).toEqual({
      livePath: '/health/live',
      readyPath: '/health/ready',
      statsPath: '/stats',
      open: ['live'],
      statsWindows: [60, 300, 900],
    });
  });

  it('reads the environment', () => {
    const { config, problems } = resolveConfig(
      {
        OTELKIT_HEALTH_LIVE_PATH: '/livez',
        OTELKIT_HEALTH_READY_PATH: '/readyz',
        OTELKIT_STATS_PATH: '/_stats',
        OTELKIT_OPEN_ENDPOINTS: 'live,ready',
        OTELKIT_STATS_WINDOWS: '15m, 30s,1h,15m',
      },
      [],
    );
    expect(problems).toEqual([]);
    expect(config.health).toEqual({
      livePath: '/livez',
      readyPath: '/readyz',
      statsPath: '/_stats',
      open: ['live', 'ready'],
      statsWindows: [30, 900, 3600],
    });
  });

  it('none opens nothing; a config file may give windows in seconds', () => {
    const { config } = resolveConfig({ OTELKIT_OPEN_ENDPOINTS: 'none' }, [
      { label: 'otel.config.ts', config: { health: { statsWindows: [120, 600] } } },
    ]);
    expect(config.health.open).toEqual([]);
    expect(config.health.statsWindows).toEqual([120, 600]);
  });

  it.each([
    ['OTELKIT_STATS_WINDOWS', '5x', 'a comma list of 1 to 6 durations from 30s to 24h, e.g. 1m,5m,15m'],
    ['OTELKIT_STATS_WINDOWS', '10s', 'a comma list of 1 to 6 durations from 30s to 24h, e.g. 1m,5m,15m'],
    ['OTELKIT_STATS_PATH', 'stats', 'a path starting with /, e.g. /metrics'],
    ['OTELKIT_OPEN_ENDPOINTS', 'live,metrics', 'a comma list of live, ready, stats, or none'],
  ])('%s=%s is one line naming what is accepted, and the default is kept', (name, value, accepted) => {
    const { config, problems } = resolveConfig({ [name]: value }, []);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`${name}=${JSON.stringify(value)} is invalid: expected ${accepted}`);
    expect(config.health.statsWindows).toEqual([60, 300, 900]);
    expect(config.health.statsPath).toBe('/stats');
  });
});
