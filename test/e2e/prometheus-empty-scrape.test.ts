// Every scrape parses, whatever the app has recorded: apps under the otelkit/register
// preload scraped right after start, with nothing recorded, and checked by promtool.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startChild, stopAll } from '../helpers/child.js';
import { hasPromtool, promtoolCheckMetrics } from '../helpers/prometheus.js';
import { findSamples, sampleValue, scrape } from '../helpers/prom-text.js';

const fixture = join(import.meta.dirname, '../fixtures/core-app');
const baseEnv = { OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: '0' };

afterEach(() => stopAll());

/** Runs `body` (ESM, after the preload) and returns the scrape URL and, if the app serves, its URL. */
async function startApp(instrumentations: string, body = '') {
  const child = startChild({
    args: [
      '--import',
      'otelkit/register',
      '--input-type=module',
      '-e',
      [
        "import http from 'node:http';",
        "import { metrics } from '@opentelemetry/api';",
        "import { getOtelkit } from 'otelkit';",
        body,
        'const { url } = await getOtelkit().ready;',
        "const server = http.createServer((_req, res) => res.end('ok'));",
        "server.listen(0, '127.0.0.1', () => {",
        "  const appUrl = 'http://127.0.0.1:' + server.address().port + '/';",
        '  console.log(JSON.stringify({ metricsUrl: url, appUrl }));',
        '});',
      ].join('\n'),
    ],
    env: { ...baseEnv, OTELKIT_INSTRUMENTATIONS: instrumentations },
    cwd: fixture,
  });
  return { child, ...(await child.waitForJson<{ metricsUrl: string; appUrl: string }>(undefined, 15_000)) };
}

async function expectParses(text: string) {
  const lint = await promtoolCheckMetrics(text);
  expect(lint, lint.output).toMatchObject({ ok: true, code: 0 });
  expect(text.endsWith('\n')).toBe(true);
}

describe.skipIf(!hasPromtool())('an empty scrape is valid exposition text', () => {
  it('OTELKIT_INSTRUMENTATIONS=none, right after start: only target_info, and it parses', async () => {
    const { metricsUrl } = await startApp('none');
    const text = await scrape(metricsUrl);
    expect(findSamples(text, 'target_info')).toHaveLength(1);
    expect(text.split('\n').filter((l) => l && !l.startsWith('#'))).toHaveLength(1);
    await expectParses(text);

    const head = await fetch(metricsUrl, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('http-server before the first request parses, and after it too', async () => {
    const { metricsUrl, appUrl } = await startApp('http-server');
    await expectParses(await scrape(metricsUrl));

    expect(await (await fetch(appUrl)).text()).toBe('ok');
    const after = await scrape(metricsUrl);
    expect(sampleValue(after, 'http_server_request_duration_seconds_count', { http_response_status_code: '200' })).toBe(
      1,
    );
    await expectParses(after);
  });

  it('instruments reporting nothing (never recorded, dropped for a TYPE clash) leave a body that parses', async () => {
    const { metricsUrl, child } = await startApp(
      'none',
      `
      metrics.getMeter('a').createHistogram('clash').record(1);
      metrics.getMeter('b').createGauge('clash').record(1);
      metrics.getMeter('c').createCounter('never.recorded');
    `,
    );
    const text = await scrape(metricsUrl);
    expect(findSamples(text, 'clash')).toEqual([]);
    expect(text).not.toMatch(/never_recorded/);
    await expectParses(text);
    // The serializer says why it dropped the metric (a diag warning, once).
    await child.waitForLine(/Conflicting TYPE comments for metric "clash"/, 5_000, { stream: 'stderr' });
  });
});
