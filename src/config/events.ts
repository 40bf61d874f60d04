/**
 * The `events` settings that are not one value each: the event-to-metric mapping,
 * the modules and the audit sink. Each is taken whole from the first source that
 * sets it (register() over the config file); every problem is one line naming
 * where it is, and only the entry at fault is left out.
 */
import * as p from './parsers.js';
import { Invalid } from './parsers.js';
import type { EventMetricType, EventsConfig, OtelkitConfig, OtelkitUserConfig, ResolvedEventMetric } from './types.js';

/** A config source as resolve.ts has it (not imported from there: resolve.ts imports this file). */
interface ConfigSource {
  label: string;
  config: OtelkitUserConfig;
}

const EVENT_KEYS = ['metrics', 'modules', 'switches', 'sink', 'logExporters', 'logProtocol'];
const METRIC_KEYS = ['metric', 'type', 'unit', 'description', 'attributes', 'value'];
const TYPES: readonly EventMetricType[] = ['counter', 'histogram', 'updowncounter', 'gauge'];
/** The OpenTelemetry API's instrument name syntax. */
const INSTRUMENT_NAME = /^[A-Za-z][A-Za-z0-9_.\-/]{0,254}$/;
/** Printable ASCII, at most 63 characters (the API's unit rule). */
const UNIT = /^[\x21-\x7e]{0,63}$/;
const MODULE_MEMBER = /^[^\s,]+$/;
/**
 * Namespaces of otelkit's own metrics: an event metric in one of them could share a
 * name with one of otelkit's, which would make two metric families of one name.
 */
const OWN_NAMESPACES = [
  'otelkit.',
  'task.',
  'http.',
  'cache.',
  'rate_limiter.',
  'circuit_breaker.',
  'nodejs.',
  'v8js.',
  'process.',
  'queue.job',
  'messaging.',
  'websocket.server.',
  'session.',
];

type Plain = Record<string, unknown>;
const isObject = (v: unknown): v is Plain => v !== null && typeof v === 'object' && !Array.isArray(v);
const show = (v: unknown): string => (typeof v === 'function' ? 'a function' : (JSON.stringify(v) ?? String(v)));

/**
 * Fills config.events.metrics, .modules and .sink from the sources, and the log
 * protocol when neither OTEL_EXPORTER_OTLP_LOGS_PROTOCOL nor `events.logProtocol` set it.
 */
export function resolveEvents(
  env: Record<string, string | undefined>,
  sources: ConfigSource[],
  config: OtelkitConfig,
  logProtocolSet: boolean,
  problems: string[],
): void {
  const events = config.events;
  const usable: { label: string; events: Plain }[] = [];
  for (const { label, config: user } of sources) {
    const raw = (user as Plain).events;
    if (raw === undefined) continue;
    if (!isObject(raw)) {
      problems.push(`${label}: events=${show(raw)} is invalid: expected an object (see defineConfig); ignoring it`);
      continue;
    }
    for (const key of Object.keys(raw))
      if (!EVENT_KEYS.includes(key))
        problems.push(`${label}: unknown setting "events.${key}" ignored; known settings: ${EVENT_KEYS.join(', ')}`);
    usable.push({ label, events: raw });
  }
  const first = (key: string) => usable.find((s) => s.events[key] !== undefined);

  const metrics = first('metrics');
  if (metrics) events.metrics = resolveMetrics(metrics.events.metrics, metrics.label, problems);
  const modules = first('modules');
  if (modules) events.modules = resolveModules(modules.events.modules, modules.label, problems);
  for (const { label, events: raw } of usable) {
    if (raw.sink === undefined) continue;
    if (typeof raw.sink === 'function') {
      events.sink = raw.sink as EventsConfig['sink'];
      break;
    }
    problems.push(`${label}: events.sink=${show(raw.sink)} is invalid: expected a function (event) => …; ignoring it`);
  }
  if (!logProtocolSet) events.logProtocol = genericProtocol(env, sources) ?? events.logProtocol;
  events.logEndpoint = logEndpoint(env, events.logProtocol, problems);
}

/**
 * OTEL_EXPORTER_OTLP_LOGS_ENDPOINT as given, else OTEL_EXPORTER_OTLP_ENDPOINT as a base
 * (`/v1/logs` appended for HTTP), else the collector's default port on localhost.
 */
function logEndpoint(env: Record<string, string | undefined>, protocol: string, problems: string[]): string {
  const grpc = protocol === 'grpc';
  for (const name of ['OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT']) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const url = p.httpUrl(raw);
    if (url instanceof Invalid) {
      // OTEL_EXPORTER_OTLP_ENDPOINT is reported with the metrics endpoint already.
      if (name === 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT')
        problems.push(`${name}=${JSON.stringify(raw)} is invalid: expected ${url.accepted}; ignoring it`);
      continue;
    }
    return name === 'OTEL_EXPORTER_OTLP_ENDPOINT' && !grpc ? `${url.replace(/\/+$/, '')}/v1/logs` : url;
  }
  return grpc ? 'http://localhost:4317' : 'http://localhost:4318/v1/logs';
}

const protocol = p.oneOf(['http/protobuf', 'http/json', 'grpc'] as const);

/** OTEL_EXPORTER_OTLP_PROTOCOL, else the config's otlp.protocol: already reported if invalid. */
function genericProtocol(
  env: Record<string, string | undefined>,
  sources: ConfigSource[],
): EventsConfig['logProtocol'] | undefined {
  for (const raw of [env.OTEL_EXPORTER_OTLP_PROTOCOL, ...sources.map((s) => s.config.otlp?.protocol)]) {
    if (raw === undefined || raw.trim() === '') continue;
    const parsed = protocol(raw);
    if (!(parsed instanceof Invalid)) return parsed;
  }
  return undefined;
}

function resolveMetrics(raw: unknown, label: string, problems: string[]): EventsConfig['metrics'] {
  if (!isObject(raw)) {
    problems.push(
      `${label}: events.metrics=${show(raw)} is invalid: expected an object of event name → metric, ` +
        `e.g. { 'order.placed': { metric: 'orders.placed' } }; ignoring it`,
    );
    return {};
  }
  const out: EventsConfig['metrics'] = {};
  /** Metric name → its first declaration, which later ones must agree with. */
  const declared = new Map<string, { event: string; metric: ResolvedEventMetric }>();
  for (const [event, spec] of Object.entries(raw)) {
    const list: unknown[] = Array.isArray(spec) ? spec : [spec];
    const feeds: ResolvedEventMetric[] = [];
    list.forEach((entry, i) => {
      const at = `${label}: events.metrics[${JSON.stringify(event)}]${Array.isArray(spec) ? `[${i}]` : ''}`;
      const metric = resolveMetric(entry, at, problems);
      if (!metric) return;
      const earlier = declared.get(metric.metric);
      if (earlier && !sameShape(earlier.metric, metric)) {
        problems.push(
          `${at}: "${metric.metric}" is already fed by "${earlier.event}" as ${describeShape(earlier.metric)}; ` +
            'a metric fed by several events needs the same type, unit and attribute names; ignoring this one',
        );
        return;
      }
      if (!earlier) declared.set(metric.metric, { event, metric });
      feeds.push(metric);
    });
    out[event] = feeds;
  }
  return out;
}

function resolveMetric(raw: unknown, at: string, problems: string[]): ResolvedEventMetric | undefined {
  if (!isObject(raw)) {
    problems.push(`${at}=${show(raw)} is invalid: expected { metric, type?, unit?, attributes?, value? }; ignoring it`);
    return undefined;
  }
  for (const key of Object.keys(raw))
    if (!METRIC_KEYS.includes(key))
      problems.push(`${at}: unknown key "${key}" ignored; known: ${METRIC_KEYS.join(', ')}`);
  const bad = (key: string, accepted: string): undefined => {
    problems.push(`${at}.${key}=${show(raw[key])} is invalid: expected ${accepted}; ignoring this metric`);
    return undefined;
  };
  const { metric, type = 'counter', unit = '', description = '', value } = raw;
  if (typeof metric !== 'string' || !INSTRUMENT_NAME.test(metric))
    return bad('metric', 'an instrument name (a letter, then letters, digits, _ . - /), e.g. orders.placed');
  if (OWN_NAMESPACES.some((ns) => metric.startsWith(ns)))
    return bad('metric', `a name outside the namespaces of otelkit's own metrics (${OWN_NAMESPACES.join(' ')})`);
  if (typeof type !== 'string' || !TYPES.includes(type as EventMetricType))
    return bad('type', `one of ${TYPES.join(', ')}`);
  if (typeof unit !== 'string' || !UNIT.test(unit)) return bad('unit', 'a UCUM unit such as s, By or {order}');
  if (typeof description !== 'string') return bad('description', 'a string');
  const constant = typeof value === 'number' && Number.isFinite(value);
  if (value !== undefined && !(typeof value === 'string' && value !== '') && !constant)
    return bad('value', 'the name of the attribute that holds the value, or a number');
  if (constant && (value as number) < 0 && (type === 'counter' || type === 'histogram'))
    return bad('value', `a number >= 0 for a ${type}`);
  const attributes = resolveAttributes(raw.attributes);
  if (!attributes)
    return bad('attributes', "a list of attribute names, or name → value when missing, e.g. { market: 'unknown' }");
  return {
    metric,
    type: type as EventMetricType,
    unit,
    description,
    attributes,
    ...(value !== undefined ? { value: value as string | number } : {}),
  };
}

/** Sorted by name, so every event feeding one metric builds its attribute sets in one order. */
function resolveAttributes(raw: unknown): ResolvedEventMetric['attributes'] | undefined {
  let pairs: [string, unknown][];
  if (raw === undefined) pairs = [];
  else if (Array.isArray(raw)) pairs = raw.map((name) => [name, 'unknown']);
  else if (isObject(raw)) pairs = Object.entries(raw);
  else return undefined;
  const out = new Map<string, string>();
  for (const [name, fallback] of pairs) {
    if (typeof name !== 'string' || name === '' || typeof fallback !== 'string') return undefined;
    out.set(name, fallback);
  }
  return [...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function sameShape(a: ResolvedEventMetric, b: ResolvedEventMetric): boolean {
  return (
    a.type === b.type &&
    a.unit === b.unit &&
    a.attributes.length === b.attributes.length &&
    a.attributes.every(([name], i) => b.attributes[i]![0] === name)
  );
}

function describeShape(m: ResolvedEventMetric): string {
  const names = m.attributes.map(([name]) => name).join(', ') || 'none';
  return `a ${m.type} (unit "${m.unit}", attributes ${names})`;
}

function resolveModules(raw: unknown, label: string, problems: string[]): EventsConfig['modules'] {
  const accepted = "an object of module name → event names or prefixes, e.g. { trading: ['order.*', 'trade.done'] }";
  if (!isObject(raw)) {
    problems.push(`${label}: events.modules=${show(raw)} is invalid: expected ${accepted}; ignoring it`);
    return {};
  }
  const out: EventsConfig['modules'] = {};
  for (const [name, members] of Object.entries(raw)) {
    const ok =
      /^[A-Za-z0-9_][A-Za-z0-9_.\-/:]*$/.test(name) &&
      Array.isArray(members) &&
      members.every((m) => typeof m === 'string' && MODULE_MEMBER.test(m));
    if (ok) out[name] = [...(members as string[])];
    else
      problems.push(
        `${label}: events.modules[${JSON.stringify(name)}]=${show(members)} is invalid: ` +
          'expected a list of event names or prefixes (prefix.*) under a dotted module name; ignoring it',
      );
  }
  return out;
}
