// The README's alert and query examples (the lines starting **Alert or **Query):
// each parses as PromQL (`promtool check rules`), and every metric and label it
// names is one the README's metric tables document, so a renamed metric or a typo
// in an example fails here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROMTOOL, hasPromtool } from '../helpers/prometheus.js';

const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
const codes = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/** Prometheus name → its attributes as Prometheus labels, from every `| `otel`<br>`prom` | …` row. */
const documented = new Map<string, Set<string>>();
const otelToProm = new Map<string, string>();
for (const line of readme.split('\n')) {
  const cells = line
    .split('|')
    .slice(1, -1)
    .map((c) => c.trim());
  const [otel, prom] = codes(cells[0] ?? '');
  if (!line.startsWith('| `') || !cells[0]!.includes('<br>') || !otel || !prom) continue;
  otelToProm.set(otel, prom);
  const same = /^as `([^`]+)`$/.exec(cells[3] ?? ''); // "as `x`": the attributes of row x
  const attributes = same
    ? [...documented.get(otelToProm.get(same[1]!)!)!]
    : codes(cells[3] ?? '').map((a) => a.replaceAll('.', '_'));
  documented.set(prom, new Set(attributes));
}

const queries = readme
  .split('\n')
  .filter((line) => /^\*\*(Alerts?|Query)\b/.test(line))
  .flatMap((line) => line.split('<br>').flatMap((part) => codes(part)));

const FAMILIES =
  /^(http|nodejs|v8js|process|cache|rate_limiter|circuit_breaker|queue|messaging|task|otelkit|websocket|session)_/;
const FUNCTIONS_AND_KEYWORDS = new Set(['by', 'without', 'and', 'or', 'unless', 'on', 'ignoring', 'le']);

/** The metric selectors of an expression: `name` with its `{label…}` matchers. */
function selectors(expr: string): { name: string; labels: string[] }[] {
  const out: { name: string; labels: string[] }[] = [];
  const withoutGrouping = expr.replace(/\b(by|without)\s*\(([^)]*)\)/g, '');
  for (const m of withoutGrouping.matchAll(/\b([a-z_][a-z0-9_]*)\s*(\{[^}]*\})?/g)) {
    const name = m[1]!;
    if (FUNCTIONS_AND_KEYWORDS.has(name) || withoutGrouping[m.index! + m[0].length] === '(') continue;
    const labels = m[2] ? [...m[2].matchAll(/([a-z_][a-z0-9_]*)\s*(=~|!=|!~|=)/g)].map((l) => l[1]!) : [];
    out.push({ name, labels });
  }
  return out.filter((s) => FAMILIES.test(s.name) || s.labels.length > 0);
}

function family(name: string): string | undefined {
  for (const candidate of [name, name.replace(/_(bucket|count|sum)$/, '')])
    if (documented.has(candidate)) return candidate;
  return undefined;
}

describe('README alert and query examples', () => {
  it('there is one for every metric family', () => {
    const prefixes = new Set(queries.flatMap((q) => selectors(q).map((s) => s.name.split('_')[0])));
    expect([...prefixes].sort()).toEqual([
      'cache',
      'circuit',
      'http',
      'nodejs',
      'otelkit',
      'process',
      'queue',
      'rate',
      'session',
      'task',
      'v8js',
      'websocket',
    ]);
    expect(queries.length).toBeGreaterThanOrEqual(9);
  });

  it.each(queries)('%s: names documented metrics and their labels', (query) => {
    const found = selectors(query);
    expect(found.length).toBeGreaterThan(0);
    const used = found.map((s) => ({ ...s, family: family(s.name) }));
    for (const s of used) {
      expect(s.family, `${s.name} is not in a README metric table`).toBeDefined();
      for (const label of s.labels)
        expect([...documented.get(s.family!)!], `${s.name} has no label ${label}`).toContain(label);
    }
    const grouping = [...query.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
      m[1]!.split(',').map((l) => l.trim()),
    );
    const labels = new Set(['le', ...used.flatMap((s) => [...documented.get(s.family!)!])]);
    for (const label of grouping) expect([...labels], `grouping label ${label}`).toContain(label);
  });

  it.skipIf(!hasPromtool())('every one parses as PromQL (promtool check rules)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otelkit-readme-queries-'));
    try {
      const rules = [
        'groups:',
        '  - name: readme',
        '    rules:',
        ...queries.flatMap((q, i) => [`      - alert: ReadmeExample${i}`, `        expr: ${JSON.stringify(q)}`]),
      ];
      const file = join(dir, 'rules.yml');
      writeFileSync(file, `${rules.join('\n')}\n`);
      const r = spawnSync(PROMTOOL!, ['check', 'rules', file], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`${queries.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
