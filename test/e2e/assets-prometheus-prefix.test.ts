// The generated assets follow the app's Prometheus naming: the app runs with
// OTELKIT_PROMETHEUS_PREFIX=myapp (every series but target_info is myapp_…) and
// OTELKIT_PROMETHEUS_UNIT_SUFFIXES=false (no unit words: myapp_http_server_request_duration_bucket),
// and `otelkit assets` takes both from the config file. Every panel query and rule
// expression names otelkit series only that way, and every one returns data from a
// real Prometheus scraping that app.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { metricTokens } from '../../assets/prefix.js';
import { SERIES_NAMES } from '../../assets/series-names.js';
import { type AssetsStack, checksWithoutData, startAssetsStack } from '../helpers/assets-checks.js';
import { stopAll } from '../helpers/child.js';
import { hasPrometheus, stopAllPrometheus } from '../helpers/prometheus.js';

let dir: string;
let stack: AssetsStack;

beforeAll(async () => {
  if (!hasPrometheus()) return;
  dir = mkdtempSync(join(tmpdir(), 'otelkit-assets-prefix-'));
  writeFileSync(
    join(dir, 'otel.config.mjs'),
    "export default { prometheus: { prefix: 'myapp', unitSuffixes: false } };\n",
  );
  stack = await startAssetsStack({
    dir,
    job: 'shop',
    cliArgs: ['--config', 'otel.config.mjs'],
    appEnv: { OTELKIT_PROMETHEUS_PREFIX: 'myapp', OTELKIT_PROMETHEUS_UNIT_SUFFIXES: 'false' },
  });
}, 120_000);

afterAll(async () => {
  await stopAllPrometheus();
  await stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every PromQL expression the output folder holds: panel queries and rule expressions. */
function expressions(out: string): string[] {
  const panels = readdirSync(join(out, 'dashboards')).flatMap((file) =>
    JSON.parse(readFileSync(join(out, 'dashboards', file), 'utf8')).panels.flatMap(
      (p: { targets?: { expr: string }[] }) => (p.targets ?? []).map((t) => t.expr),
    ),
  );
  const rules = readdirSync(join(out, 'rules')).flatMap((file) =>
    (parse(readFileSync(join(out, 'rules', file), 'utf8')) as { groups: { rules: { expr: string }[] }[] }).groups
      .flatMap((g) => g.rules)
      .map((r) => r.expr),
  );
  return [...panels, ...rules];
}

describe.skipIf(!hasPrometheus())('assets with a Prometheus prefix and the unit suffixes off', () => {
  it('name otelkit series only with the prefix and without unit words', () => {
    const exprs = expressions(stack.out);
    expect(exprs.length).toBeGreaterThan(80);
    const unprefixed = exprs.filter((e) => metricTokens(e).some((t) => SERIES_NAMES.has(t.name)));
    expect(unprefixed).toEqual([]);
    expect(exprs.filter((e) => e.includes('myapp_')).length).toBeGreaterThan(60);
    expect(exprs.some((e) => e.includes('myapp_http_server_request_duration_bucket'))).toBe(true);
    expect(exprs.filter((e) => /myapp_\w*_(seconds|bytes)\b/.test(e))).toEqual([]);
  });

  it('every panel query, variable query and recording rule returns data', { timeout: 120_000 }, async () => {
    const missing = await checksWithoutData(stack.prometheus, stack.checks, 100_000);
    expect(missing, `no data; app output:\n${stack.app.describe().slice(-2000)}`).toEqual([]);
  });
});
