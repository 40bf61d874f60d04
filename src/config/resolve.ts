/**
 * Merges environment, register() options, the config file and defaults into one
 * OtelkitConfig. Invalid values never throw: each becomes one problem line and the
 * next source (finally the default) is used.
 */
import { defaultConfig } from './defaults.js';
import { resolveEvents } from './events.js';
import * as p from './parsers.js';
import { Invalid } from './parsers.js';
import { SETTINGS, SPECIAL_ENV, USER_CONFIG_KEYS, type Setting } from './settings.js';
import type { OtelkitConfig, OtelkitUserConfig } from './types.js';
import { parseAlerts } from './alerts.js';
import { SLO_HISTOGRAM, parseSlos } from './slos.js';
import { bucketsFor } from '../series-policy.js';

export interface ConfigSource {
  /** Shown in messages, e.g. `otel.config.ts` or `register()`. */
  label: string;
  config: OtelkitUserConfig;
}

export interface ResolvedConfig {
  config: OtelkitConfig;
  problems: string[];
}

type Env = Record<string, string | undefined>;

/** @param sources programmatic sources, highest precedence first (below env). */
export function resolveConfig(env: Env, sources: ConfigSource[]): ResolvedConfig {
  const problems: string[] = [];
  const config = defaultConfig();
  const checked = sources.map((source) => checkShape(source, problems));
  /** Where each setting's value came from (env name or `label: path`); absent = default. */
  const origins = new Map<string, string>();

  for (const setting of SETTINGS) {
    const found = setting.merge
      ? pickMerged(setting, env, checked)
      : pick(setting.env, setting.path, setting.parse, env, checked);
    if (found.value !== undefined) {
      setPath(config, setting.path, found.value);
      origins.set(setting.path, found.from!);
    }
    report(found.invalid, getPath(config, setting.path), problems);
  }

  config.otlp.endpoint = resolveOtlpEndpoint(env, checked, config.otlp.protocol, problems);
  config.resourceAttributes = resolveResource(env, checked, problems);
  capExportTimeout(config, origins, problems);
  resolveMonitoring(config, checked, problems);
  resolveEvents(env, checked, config, origins.has('events.logProtocol'), problems);
  if (config.otlp.histogram === 'exponential' && config.exporters.includes('prometheus')) {
    problems.push(
      'exponential histograms go to OTLP only; the Prometheus text format cannot carry them, ' +
        'so the scrape keeps explicit buckets',
    );
  }
  return { config, problems };
}

/**
 * The SDK rejects an export timeout longer than the interval. The default timeout
 * (30 s) is capped silently for any shorter interval; only a timeout the user set
 * is worth a line.
 */
function capExportTimeout(config: OtelkitConfig, origins: Map<string, string>, problems: string[]): void {
  if (config.exportTimeoutMs <= config.exportIntervalMs) return;
  const timeoutFrom = origins.get('exportTimeoutMs');
  if (timeoutFrom !== undefined && config.exporters.some((e) => e !== 'prometheus')) {
    const intervalFrom = origins.get('exportIntervalMs') ?? 'the default OTEL_METRIC_EXPORT_INTERVAL';
    problems.push(
      `${timeoutFrom} (${config.exportTimeoutMs} ms) is longer than ${intervalFrom} ` +
        `(${config.exportIntervalMs} ms); using ${config.exportIntervalMs}`,
    );
  }
  config.exportTimeoutMs = config.exportIntervalMs;
}

/**
 * `slos` (from the first source that has them) and `alerts` (merged, register() over
 * the file): only `npx otelkit assets` uses them, but a mistake is worth a line at start.
 */
function resolveMonitoring(config: OtelkitConfig, sources: ConfigSource[], problems: string[]): void {
  const withSlos = sources.find((source) => source.config.slos !== undefined);
  if (withSlos) {
    const parsed = parseSlos(withSlos.config.slos, bucketsFor(config, SLO_HISTOGRAM, 's') ?? [], withSlos.label);
    config.slos = parsed.slos;
    problems.push(...parsed.problems);
  }
  for (const source of [...sources].reverse()) {
    const parsed = parseAlerts(source.config.alerts, config.alerts, source.label);
    config.alerts = parsed.alerts;
    problems.push(...parsed.problems);
  }
}

interface Found {
  value: unknown;
  /** Where `value` came from: the env variable's name, or `label: path` for a source. */
  from?: string;
  /** `NAME="raw" is invalid: expected ...` for each invalid value met on the way. */
  invalid: string[];
}

/** One problem line per invalid value, naming what is used instead. */
function report(invalid: string[], used: unknown, problems: string[]): void {
  for (const message of invalid) problems.push(`${message}; using ${describe(used)}`);
}

/** First valid value: env variables in order, then each source. */
function pick(
  envNames: readonly string[],
  path: string | undefined,
  parse: p.Parser<unknown>,
  env: Env,
  sources: ConfigSource[],
): Found {
  const invalid: string[] = [];
  for (const name of envNames) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const parsed = parse(raw);
    if (!(parsed instanceof Invalid)) return { value: parsed, from: name, invalid };
    invalid.push(`${name}=${JSON.stringify(raw)} is invalid: expected ${parsed.accepted}`);
  }
  for (const source of path === undefined ? [] : sources) {
    const raw = getPath(source.config, path!);
    if (raw === undefined) continue;
    const parsed = parse(raw);
    if (!(parsed instanceof Invalid)) return { value: parsed, from: `${source.label}: ${path}`, invalid };
    invalid.push(`${source.label}: ${path}=${JSON.stringify(raw)} is invalid: expected ${parsed.accepted}`);
  }
  return { value: undefined, invalid };
}

/** Every valid object value, lowest precedence first, merged key by key. */
function pickMerged(setting: Setting, env: Env, sources: ConfigSource[]): Found {
  const invalid: string[] = [];
  const layers: [string, unknown][] = [
    ...[...sources]
      .reverse()
      .map((source): [string, unknown] => [`${source.label}: ${setting.path}`, getPath(source.config, setting.path)]),
    ...[...setting.env].reverse().map((name): [string, unknown] => [name, env[name]?.trim() ? env[name] : undefined]),
  ];
  let value: Record<string, unknown> | undefined;
  let from: string | undefined;
  for (const [label, raw] of layers) {
    if (raw === undefined) continue;
    const parsed = setting.parse(raw);
    if (parsed instanceof Invalid)
      invalid.push(`${label}=${JSON.stringify(raw)} is invalid: expected ${parsed.accepted}`);
    else {
      value = { ...value, ...(parsed as Record<string, unknown>) };
      from = label;
    }
  }
  return { value, from, invalid };
}

/**
 * The signal-specific endpoint is used as given; the generic one is a base that
 * gets `/v1/metrics` appended for HTTP protocols (the OTLP exporter spec's rule).
 */
function resolveOtlpEndpoint(env: Env, sources: ConfigSource[], protocol: string, problems: string[]): string {
  const grpc = protocol === 'grpc';
  const specific = pick([SPECIAL_ENV.otlpEndpoint], undefined, p.httpUrl, env, []);
  const base = pick([SPECIAL_ENV.otlpBaseEndpoint], undefined, p.httpUrl, env, []);
  const configured = pick([], 'otlp.endpoint', p.httpUrl, env, sources);
  const endpoint =
    typeof specific.value === 'string'
      ? specific.value
      : typeof base.value === 'string'
        ? grpc
          ? base.value
          : `${base.value.replace(/\/+$/, '')}/v1/metrics`
        : typeof configured.value === 'string'
          ? configured.value
          : grpc
            ? 'http://localhost:4317'
            : 'http://localhost:4318/v1/metrics';
  report([...specific.invalid, ...base.invalid, ...configured.invalid], endpoint, problems);
  return endpoint;
}

/**
 * Resource attributes: config sources, then OTEL_RESOURCE_ATTRIBUTES, then
 * OTEL_SERVICE_NAME, each overriding the previous per key.
 */
function resolveResource(env: Env, sources: ConfigSource[], problems: string[]): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const source of [...sources].reverse()) {
    const { resourceAttributes, serviceName, serviceVersion } = source.config;
    if (resourceAttributes !== undefined) {
      const parsed = p.keyValues(resourceAttributes);
      if (parsed instanceof Invalid)
        problems.push(`${source.label}: resourceAttributes is invalid: expected ${parsed.accepted}; ignoring it`);
      else Object.assign(attributes, parsed);
    }
    for (const [key, value] of [
      ['service.name', serviceName],
      ['service.version', serviceVersion],
    ] as const) {
      if (value === undefined) continue;
      const parsed = p.nonEmptyString(value);
      if (parsed instanceof Invalid)
        problems.push(
          `${source.label}: ${key === 'service.name' ? 'serviceName' : 'serviceVersion'}=${JSON.stringify(value)} ` +
            `is invalid: expected ${parsed.accepted}; ignoring it`,
        );
      else attributes[key] = parsed;
    }
  }
  const rawAttributes = env[SPECIAL_ENV.resourceAttributes];
  if (rawAttributes !== undefined && rawAttributes.trim() !== '') {
    const parsed = p.keyValues(rawAttributes);
    if (parsed instanceof Invalid)
      problems.push(
        `${SPECIAL_ENV.resourceAttributes}=${JSON.stringify(rawAttributes)} is invalid: ` +
          `expected ${parsed.accepted}; ignoring it`,
      );
    else Object.assign(attributes, parsed);
  }
  const serviceName = env[SPECIAL_ENV.serviceName]?.trim();
  if (serviceName) attributes['service.name'] = serviceName;
  return attributes;
}

/** Drops a source that is not an object and reports unknown top-level keys. */
function checkShape(source: ConfigSource, problems: string[]): ConfigSource {
  const cfg = source.config as unknown;
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) {
    problems.push(
      `${source.label}: expected an object of settings (see defineConfig), got ${describe(cfg)}; ignoring it`,
    );
    return { label: source.label, config: {} };
  }
  const known = USER_CONFIG_KEYS as readonly string[];
  for (const key of Object.keys(cfg)) {
    if (!known.includes(key))
      problems.push(`${source.label}: unknown setting "${key}" ignored; known settings: ${known.join(', ')}`);
  }
  return source;
}

function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function setPath(obj: object, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = obj as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) cur = cur[key] as Record<string, unknown>;
  cur[keys[keys.length - 1]!] = value;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return value.length ? value.join(',') : 'none';
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}
