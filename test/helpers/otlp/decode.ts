/**
 * Decodes an OTLP ExportMetricsServiceRequest (protobuf bytes or OTLP/JSON text) into one flat
 * record per metric, the shape the tests assert on. Decoding uses the official OTLP protobuf
 * definitions: the protobufjs static module generated into @opentelemetry/otlp-transformer@0.57.2,
 * installed as `otlp-proto`. Test-only.
 */
import { createRequire } from 'node:module';

/** A protobufjs message object turned into plain JSON-like data (see AS_PLAIN). */
// biome-ignore lint/suspicious/noExplicitAny: protobufjs' own typings declare nothing finer than `object`.
type Plain = Record<string, any>;
interface MessageType {
  decode(bytes: Uint8Array): object;
  encode(message: object): { finish(): Uint8Array };
  fromObject(object: unknown): object;
  toObject(message: object, options: object): Plain;
}
const root = createRequire(import.meta.url)('otlp-proto/build/src/generated/root.js');
export const ExportMetricsServiceRequest: MessageType =
  root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
export const ExportLogsServiceRequest: MessageType =
  root.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;

/**
 * int64s as numbers, enums by name, absent fields as their defaults (a zero count is 0, not
 * missing). Members of a oneof (a point's asInt/asDouble, a histogram's optional sum/min/max,
 * a metric's data kind) get no default, so their presence says which one was sent.
 */
const AS_PLAIN = { longs: Number, enums: String, defaults: true, arrays: true };

export type AttrValue = string | number | boolean | null | Uint8Array | AttrValue[] | { [key: string]: AttrValue };
export type MetricType = 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary';

/**
 * One data point: `attributes` as a record, a number point's asInt/asDouble as `value` (with
 * `isInt` saying which), every other field as the OTLP data point has it (exemplars left out).
 */
export interface MetricPoint {
  attributes: Record<string, AttrValue>;
  startTimeUnixNano: number;
  timeUnixNano: number;
  value?: number;
  isInt?: boolean;
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
  scale?: number;
  zeroCount?: number;
  positive?: { offset: number; bucketCounts: number[] } | null;
  negative?: { offset: number; bucketCounts: number[] } | null;
}

export interface MetricRecord {
  resource: Record<string, AttrValue>;
  scope: { name: string; version: string; attributes: Record<string, AttrValue> };
  name: string;
  unit: string;
  description: string;
  type: MetricType;
  /** Only for sums. */
  isMonotonic?: boolean;
  /** Absent for gauges and summaries. */
  temporality?: 'unspecified' | 'delta' | 'cumulative';
  points: MetricPoint[];
}

/** Decodes one request body (already decompressed); throws if it is not an ExportMetricsServiceRequest. */
export function decodeMetrics(body: Uint8Array, json: boolean): MetricRecord[] {
  // OTLP/JSON's string int64s and enum names are what protobufjs' fromObject accepts. Its hex
  // trace/span ids are not (fromObject reads bytes as base64), but they only occur in exemplars.
  const message = json
    ? ExportMetricsServiceRequest.fromObject(JSON.parse(Buffer.from(body).toString('utf8')))
    : ExportMetricsServiceRequest.decode(body);
  const request = ExportMetricsServiceRequest.toObject(message, AS_PLAIN);
  const records: MetricRecord[] = [];
  for (const rm of request.resourceMetrics) {
    const resource = attributes(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics) {
      const scope = {
        name: sm.scope?.name ?? '',
        version: sm.scope?.version ?? '',
        attributes: attributes(sm.scope?.attributes),
      };
      for (const m of sm.metrics) records.push(metricRecord(resource, scope, m));
    }
  }
  return records;
}

const TYPES: MetricType[] = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'];

function metricRecord(resource: MetricRecord['resource'], scope: MetricRecord['scope'], m: Plain): MetricRecord {
  const type = TYPES.find((t) => m[t]) ?? 'summary';
  const data: Plain = m[type] ?? { dataPoints: [] };
  const record: MetricRecord = {
    resource,
    scope,
    name: m.name,
    unit: m.unit,
    description: m.description,
    type,
    points: data.dataPoints.map(point),
  };
  if (type === 'sum') record.isMonotonic = data.isMonotonic;
  if (data.aggregationTemporality !== undefined) {
    const name: string = data.aggregationTemporality;
    record.temporality = name.replace('AGGREGATION_TEMPORALITY_', '').toLowerCase() as MetricRecord['temporality'];
  }
  return record;
}

function point({ attributes: attrs, asInt, asDouble, exemplars: _, ...rest }: Plain): MetricPoint {
  const p: MetricPoint = { ...(rest as MetricPoint), attributes: attributes(attrs) };
  if (asInt !== undefined || asDouble !== undefined) {
    p.value = asInt ?? asDouble;
    p.isInt = asInt !== undefined;
  }
  return p;
}

function attributes(kvs: Plain[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of kvs ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

/** An AnyValue holds exactly one member of its oneof. */
function anyValue(v: Plain | null | undefined): AttrValue {
  const [kind, value] = Object.entries(v ?? {})[0] ?? [];
  if (kind === 'arrayValue') return (value.values as Plain[]).map(anyValue);
  if (kind === 'kvlistValue') return attributes(value.values);
  return value ?? null;
}

/** One log record, with its resource and scope. */
export interface LogEntry {
  resource: Record<string, AttrValue>;
  scope: { name: string; version: string };
  timeUnixNano: number;
  observedTimeUnixNano: number;
  severityNumber: string;
  severityText: string;
  body: AttrValue;
  attributes: Record<string, AttrValue>;
  /**
   * LogRecord.event_name, read from OTLP/JSON only: the 0.57.2 definitions predate the field,
   * so protobuf decoding skips it.
   */
  eventName?: string;
}

/** Decodes one request body (already decompressed); throws if it is not an ExportLogsServiceRequest. */
export function decodeLogs(body: Uint8Array, json: boolean): LogEntry[] {
  const raw = json ? JSON.parse(Buffer.from(body).toString('utf8')) : undefined;
  const message = json ? ExportLogsServiceRequest.fromObject(raw) : ExportLogsServiceRequest.decode(body);
  const request = ExportLogsServiceRequest.toObject(message, AS_PLAIN);
  const entries: LogEntry[] = [];
  request.resourceLogs.forEach((rl: Plain, i: number) => {
    const resource = attributes(rl.resource?.attributes);
    rl.scopeLogs.forEach((sl: Plain, j: number) => {
      const scope = { name: sl.scope?.name ?? '', version: sl.scope?.version ?? '' };
      sl.logRecords.forEach((r: Plain, k: number) => {
        const eventName = raw?.resourceLogs?.[i]?.scopeLogs?.[j]?.logRecords?.[k]?.eventName;
        entries.push({
          resource,
          scope,
          timeUnixNano: r.timeUnixNano,
          observedTimeUnixNano: r.observedTimeUnixNano,
          severityNumber: r.severityNumber,
          severityText: r.severityText,
          body: anyValue(r.body),
          attributes: attributes(r.attributes),
          ...(typeof eventName === 'string' ? { eventName } : {}),
        });
      });
    });
  });
  return entries;
}

/** The last record named `name` (cumulative exports: the latest state). Throws, listing what was seen, if absent. */
export function findMetric(records: MetricRecord[], name: string): MetricRecord {
  const found = records.findLast((r) => r.name === name);
  if (found) return found;
  const seen = [...new Set(records.map((r) => r.name))].sort();
  throw new Error(`metric ${JSON.stringify(name)} not received; got: ${seen.join(', ') || '(nothing)'}`);
}

/** The points of a record whose attributes include every pair in `match`. */
export function pointsMatching(record: MetricRecord, match: Record<string, AttrValue>): MetricPoint[] {
  return record.points.filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
}
