import { prometheusLabelName } from '../util/prometheus-label.js';

/**
 * Value parsers shared by env variables (strings) and config files (typed values).
 * Each returns the parsed value or an Invalid carrying what is accepted, so the
 * caller can print one line naming the setting, the bad value and the fix.
 */
export class Invalid {
  constructor(readonly accepted: string) {}
}

export type Parser<T> = (raw: unknown) => T | Invalid;

/** The OpenTelemetry spec's booleans: `true` or `false`, any case; nothing else. */
export const boolean: Parser<boolean> = (raw) => {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') {
    const v = raw.trim().toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
  }
  return new Invalid('true or false');
};

export const port: Parser<number> = (raw) => {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 65535
    ? n
    : new Invalid('an integer from 0 to 65535 (0 picks a free port)');
};

/** OTEL_SDK_DISABLED as the spec reads it: only `true` disables. */
export function sdkDisabled(env: Record<string, string | undefined>): boolean {
  return boolean(env.OTEL_SDK_DISABLED ?? '') === true;
}

/** Non-negative integer milliseconds. */
export const milliseconds: Parser<number> = (raw) => {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : new Invalid('a whole number of milliseconds, e.g. 5000');
};

export const positiveInteger: Parser<number> = (raw) => {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  return Number.isInteger(n) && n > 0 ? n : new Invalid('a whole number greater than 0');
};

export const host: Parser<string> = (raw) =>
  typeof raw === 'string' && /^[^\s/]+$/.test(raw.trim())
    ? raw.trim()
    : new Invalid('a host name or IP address, e.g. 0.0.0.0');

export const nonEmptyString: Parser<string> = (raw) =>
  typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : new Invalid('a non-empty string');

export const urlPath: Parser<string> = (raw) =>
  typeof raw === 'string' && /^\/[^\s?#]*$/.test(raw.trim())
    ? raw.trim()
    : new Invalid('a path starting with /, e.g. /metrics');

export const httpUrl: Parser<string> = (raw) => {
  if (typeof raw === 'string') {
    try {
      const url = new URL(raw.trim());
      if (url.protocol === 'http:' || url.protocol === 'https:') return url.href;
    } catch {
      // falls through to Invalid
    }
  }
  return new Invalid('an http:// or https:// URL, e.g. http://collector:4318');
};

export function oneOf<T extends string>(values: readonly T[], aliases: Record<string, T> = {}): Parser<T> {
  return (raw) => {
    if (typeof raw === 'string') {
      const v = raw.trim().toLowerCase();
      if ((values as readonly string[]).includes(v)) return v as T;
      if (v in aliases) return aliases[v]!;
    }
    return new Invalid(`one of ${values.join(', ')}`);
  };
}

/**
 * A comma list whose items come from `values`; `none` alone means the empty list.
 * `all`, when given, is the list the word `all` stands for.
 */
export function listOf<T extends string>(values: readonly T[], options: { all?: readonly T[] } = {}): Parser<T[]> {
  const accepted = `a comma list of ${values.join(', ')}${options.all ? ', or all' : ''}, or none`;
  return (raw) => {
    const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
    if (!items) return new Invalid(accepted);
    const names = items.map((i) => (typeof i === 'string' ? i.trim().toLowerCase() : '')).filter((i) => i !== '');
    if (names.length === 1 && names[0] === 'none') return [];
    if (options.all && names.length === 1 && names[0] === 'all') return [...options.all];
    const out: T[] = [];
    for (const name of names) {
      if (!(values as readonly string[]).includes(name)) return new Invalid(accepted);
      if (!out.includes(name as T)) out.push(name as T);
    }
    return out;
  };
}

/** Default instrumentations; `all` is the three groups (`runtime` covers its four parts). */
export const instrumentationList = listOf(
  [
    'http-server',
    'http-client',
    'runtime',
    'runtime-eventloop',
    'runtime-gc',
    'runtime-heap',
    'runtime-process',
  ] as const,
  { all: ['http-server', 'http-client', 'runtime'] },
);

/**
 * Sliding windows of the /stats snapshot: durations such as `1m,5m,15m` (units s, m,
 * h; a bare number is seconds), between 30 s and 24 h, at most 6; sorted, duplicates dropped.
 */
export const windowList: Parser<number[]> = (raw) => {
  const accepted = 'a comma list of 1 to 6 durations from 30s to 24h, e.g. 1m,5m,15m';
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
  if (!items) return new Invalid(accepted);
  const seconds = new Set<number>();
  for (const item of items) {
    const m =
      typeof item === 'number' ? [String(item), String(item), 's'] : /^\s*(\d+)\s*([smh]?)\s*$/.exec(String(item));
    if (!m) return new Invalid(accepted);
    const s = Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
    if (!(s >= 30 && s <= 86_400)) return new Invalid(accepted);
    seconds.add(s);
  }
  if (seconds.size === 0 || seconds.size > 6) return new Invalid(accepted);
  return [...seconds].sort((a, b) => a - b);
};

/** Comma list of strings (paths and the like). */
export const stringList: Parser<string[]> = (raw) => {
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
  if (!items?.every((i) => typeof i === 'string')) return new Invalid('a comma list of strings');
  return (items as string[]).map((i) => i.trim()).filter((i) => i !== '');
};

/**
 * A metric name prefix: letters, digits and `_`, starting with a letter (no `:`, which
 * Prometheus keeps for recording rules). The serializer adds the joining `_`, so a
 * trailing one is dropped; the empty string means no prefix.
 */
export const metricPrefix: Parser<string> = (raw) => {
  const prefix = typeof raw === 'string' ? raw.trim().replace(/_+$/, '') : undefined;
  return prefix !== undefined && /^([a-zA-Z][a-zA-Z0-9_]*)?$/.test(prefix)
    ? prefix
    : new Invalid('letters, digits and _, starting with a letter, e.g. myapp');
};

/**
 * Resource attribute keys to copy onto every series. Each must become a distinct
 * Prometheus label that no series carries already: not `le` (histogram buckets), not
 * `otel_scope_*` (the scope labels), not starting with a digit once sanitized.
 */
export const resourceLabelList: Parser<string[]> = (raw) => {
  const accepted = 'a comma list of resource attribute names, e.g. service.name,deployment.environment.name';
  const keys = stringList(raw);
  if (keys instanceof Invalid) return new Invalid(accepted);
  const labels = new Map<string, string>();
  for (const key of keys) {
    if (!/^[\w.\-/]+$/.test(key)) return new Invalid(`${accepted} (letters, digits, . _ - /)`);
    const label = prometheusLabelName(key);
    const clash = labels.get(label);
    if (clash !== undefined) return new Invalid(`${accepted}; "${clash}" and "${key}" are both the label ${label}`);
    if (label === 'le' || label.startsWith('otel_scope_'))
      return new Invalid(`${accepted}; the label ${label} is otelkit's own`);
    if (/^[0-9]/.test(label)) return new Invalid(`${accepted}; a label cannot start with a digit ("${key}")`);
    labels.set(label, key);
  }
  return keys;
};

/**
 * `key=value,key2=value2` with percent-encoded values, as in OTEL_RESOURCE_ATTRIBUTES
 * and OTEL_EXPORTER_OTLP_HEADERS; or a plain object of strings from a config file.
 */
export const keyValues: Parser<Record<string, string>> = (raw) => {
  const accepted = 'comma-separated key=value pairs, values percent-encoded, e.g. team=payments,region=eu%20west';
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const entries = Object.entries(raw);
    return entries.every(([, v]) => typeof v === 'string')
      ? (Object.fromEntries(entries) as Record<string, string>)
      : new Invalid('an object of string values');
  }
  if (typeof raw !== 'string') return new Invalid(accepted);
  const out: Record<string, string> = {};
  for (const part of raw.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return new Invalid(accepted);
    const key = part.slice(0, eq).trim();
    try {
      out[key] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return new Invalid(accepted);
    }
    if (key === '') return new Invalid(accepted);
  }
  return out;
};

/** Strictly increasing finite numbers. */
function boundaries(values: unknown[]): number[] | undefined {
  const nums = values.map((v) =>
    typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN,
  );
  if (nums.length === 0 || !nums.every(Number.isFinite)) return undefined;
  for (let i = 1; i < nums.length; i++) if (nums[i]! <= nums[i - 1]!) return undefined;
  return nums;
}

/** `instrument=b1,b2;other=b1,b2` or `{ instrument: [b1, b2] }`. */
export const bucketsByInstrument: Parser<Record<string, number[]>> = (raw) => {
  const accepted =
    'instrument=b1,b2,...;other=... with increasing numbers, e.g. http.server.request.duration=0.01,0.1,1';
  const pairs: [string, unknown[]][] = [];
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const [name, list] of Object.entries(raw)) {
      if (!Array.isArray(list)) return new Invalid(accepted);
      pairs.push([name, list]);
    }
  } else if (typeof raw === 'string') {
    for (const entry of raw.split(';')) {
      if (entry.trim() === '') continue;
      const eq = entry.indexOf('=');
      if (eq <= 0) return new Invalid(accepted);
      pairs.push([entry.slice(0, eq).trim(), entry.slice(eq + 1).split(',')]);
    }
  } else {
    return new Invalid(accepted);
  }
  const out: Record<string, number[]> = {};
  for (const [name, list] of pairs) {
    const parsed = boundaries(list);
    if (!parsed || name === '') return new Invalid(accepted);
    out[name] = parsed;
  }
  return out;
};

/** A module or event name in OTELKIT_EVENTS: dotted words. */
const SWITCH_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.\-/:]*$/;

/**
 * OTELKIT_EVENTS: a comma list of rules, the last matching one deciding. `all` and
 * `none` switch every event; `name` switches a module (or event, or dotted prefix) on,
 * `-name` off; `name.*` is the same as `name`. A list that starts with a name means
 * only those (`trading,auth` = `none,trading,auth`); one that starts with `-name`
 * means all but those. The result always starts with `all` or `none`.
 */
export const eventSwitches: Parser<string[]> = (raw) => {
  const accepted =
    'a comma list of all, none, a module or event name (on) and -name (off), e.g. -trading or trading,auth';
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
  if (!items) return new Invalid(accepted);
  const rules: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') return new Invalid(accepted);
    const rule = item.trim();
    if (rule === '') continue;
    const keyword = rule.toLowerCase();
    if (keyword === 'all' || keyword === 'none') {
      // Everything before it is overridden.
      rules.length = 0;
      rules.push(keyword);
      continue;
    }
    const off = rule.startsWith('-');
    let name = off || rule.startsWith('+') ? rule.slice(1) : rule;
    if (name.endsWith('.*')) name = name.slice(0, -2);
    if (!SWITCH_NAME.test(name)) return new Invalid(accepted);
    if (rules.length === 0) rules.push(off ? 'all' : 'none');
    rules.push(off ? `-${name}` : name);
  }
  return rules.length === 0 ? ['all'] : rules;
};
