/**
 * The app's Prometheus naming applied to generated PromQL: the prefix
 * (`prometheus.prefix`, OTELKIT_PROMETHEUS_PREFIX) makes every otelkit metric name
 * `<prefix>_<name>`, and with the unit suffixes off (`prometheus.unitSuffixes: false`,
 * OTELKIT_PROMETHEUS_UNIT_SUFFIXES=false) the names lose their unit word, as the app's
 * scrape has them. The dashboards ship as JSON built with the defaults, so the CLI
 * rewrites their query expressions with this (no Grafana SDK at run time), and the
 * rules go through the same function.
 *
 * Only exact otelkit names in metric position change: not label names (inside `{…}`
 * and `by (…)`-style lists, where `circuit_breaker_state` is also a label), not
 * strings, not recording-rule names (they contain `:`), and not `target_info` or
 * `up`, which the exporter and Prometheus never prefix.
 */
import { SERIES_NAMES, WITHOUT_UNIT_SUFFIXES } from './series-names.js';

/** How the app names its series: `prometheus.prefix` and `prometheus.unitSuffixes`. */
export interface Naming {
  prefix?: string;
  unitSuffixes?: boolean;
}

/** Keywords whose parenthesised list holds label names. */
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const IDENT = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const NUMBER = /[0-9][0-9a-zA-Z_.]*/y;

/** Each identifier in metric position: its start and text. */
export function metricTokens(expr: string): { start: number; name: string }[] {
  const out: { start: number; name: string }[] = [];
  let braces = 0;
  /** Depths of the parentheses opened by a label-list keyword. */
  const labelParens: number[] = [];
  let parens = 0;
  let afterLabelKeyword = false;
  for (let i = 0; i < expr.length; ) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') {
      i = endOfString(expr, i);
      continue;
    }
    if (c === '{') braces++;
    else if (c === '}') braces--;
    else if (c === '(') {
      parens++;
      if (afterLabelKeyword) labelParens.push(parens);
      afterLabelKeyword = false;
    } else if (c === ')') {
      if (labelParens.at(-1) === parens) labelParens.pop();
      parens--;
    }
    if (/[0-9]/.test(c)) {
      NUMBER.lastIndex = i;
      NUMBER.exec(expr);
      i = NUMBER.lastIndex;
      continue;
    }
    IDENT.lastIndex = i;
    const m = IDENT.exec(expr);
    if (m === null) {
      if (!/\s/.test(c) && c !== '(') afterLabelKeyword = false;
      i++;
      continue;
    }
    const name = m[0];
    const preceded = expr[i - 1];
    afterLabelKeyword = LABEL_LISTS.has(name);
    // `$__rate_interval`, `$job`: Grafana variables, not names.
    if (braces === 0 && labelParens.length === 0 && preceded !== '$') out.push({ start: i, name });
    i += name.length;
  }
  return out;
}

function endOfString(expr: string, start: number): number {
  const quote = expr[start];
  for (let i = start + 1; i < expr.length; i++) {
    if (expr[i] === '\\' && quote !== '`') i++;
    else if (expr[i] === quote) return i + 1;
  }
  return expr.length;
}

/** `expr` with every otelkit metric name as the app names it; unchanged with the defaults. */
export function renameMetrics(expr: string, { prefix, unitSuffixes = true }: Naming): string {
  if (!prefix && unitSuffixes) return expr;
  let out = '';
  let from = 0;
  for (const { start, name } of metricTokens(expr)) {
    if (!SERIES_NAMES.has(name)) continue;
    const renamed = unitSuffixes ? name : WITHOUT_UNIT_SUFFIXES.get(name)!;
    out += `${expr.slice(from, start)}${prefix ? `${prefix}_` : ''}${renamed}`;
    from = start + name.length;
  }
  return out + expr.slice(from);
}

/** `expr` with every otelkit metric name prefixed; unchanged for no prefix. */
export const prefixMetrics = (expr: string, prefix: string | undefined): string => renameMetrics(expr, { prefix });
