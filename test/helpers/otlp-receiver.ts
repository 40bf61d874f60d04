/**
 * A local OTLP metrics receiver for tests: the bytes the real exporters send are
 * decoded with the official OTLP protobuf definitions (the protobufjs static module
 * generated into @opentelemetry/otlp-transformer@0.57.2, installed as `otlp-proto`).
 * Nothing here mocks an exporter.
 *
 * - HTTP (`http/protobuf` and `http/json` share one server; each request is decoded
 *   by its content-type, and `request.protocol` says what actually arrived):
 *   POST /v1/metrics, gzip/deflate/br bodies, replies with an ExportMetricsServiceResponse
 *   in the request's own encoding.
 * - gRPC: a real @grpc/grpc-js server implementing
 *   opentelemetry.proto.collector.metrics.v1.MetricsService/Export (insecure, loopback).
 *
 * Every server binds 127.0.0.1 on an ephemeral port. Test-only.
 */
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------
// protobufjs static module (CJS). Its .d.ts only says `$protobuf.Root`, so type the
// few members used here.
interface PbConversionOptions {
  longs?: unknown;
  enums?: unknown;
  bytes?: unknown;
  defaults?: boolean;
  arrays?: boolean;
  objects?: boolean;
  oneofs?: boolean;
  json?: boolean;
}
interface PbMessageType {
  decode(bytes: Uint8Array): object;
  encode(message: object): { finish(): Uint8Array };
  fromObject(object: unknown): object;
  toObject(message: object, options?: PbConversionOptions): Record<string, unknown>;
  create(properties?: object): object;
}
const root = require('otlp-proto/build/src/generated/root.js') as {
  opentelemetry: {
    proto: {
      collector: {
        metrics: {
          v1: {
            ExportMetricsServiceRequest: PbMessageType;
            ExportMetricsServiceResponse: PbMessageType;
          };
        };
      };
    };
  };
};
const pb = root.opentelemetry.proto.collector.metrics.v1;
export const ExportMetricsServiceRequest = pb.ExportMetricsServiceRequest;
export const ExportMetricsServiceResponse = pb.ExportMetricsServiceResponse;

export const GRPC_EXPORT_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
export const HTTP_METRICS_PATH = '/v1/metrics';

// ---------------------------------------------------------------------------
// Decoded (normalized) shapes: plain objects, int64 as numbers, enums as numbers,
// bytes as Uint8Array. Field names are the OTLP lowerCamelCase ones.

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: Uint8Array;
}
export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
export interface OtlpExemplar {
  filteredAttributes?: OtlpKeyValue[];
  timeUnixNano?: number;
  asDouble?: number;
  asInt?: number;
  spanId?: Uint8Array;
  traceId?: Uint8Array;
}
export interface OtlpNumberDataPoint {
  attributes?: OtlpKeyValue[];
  startTimeUnixNano?: number;
  timeUnixNano?: number;
  asDouble?: number;
  asInt?: number;
  exemplars?: OtlpExemplar[];
  flags?: number;
}
export interface OtlpHistogramDataPoint {
  attributes?: OtlpKeyValue[];
  startTimeUnixNano?: number;
  timeUnixNano?: number;
  count?: number;
  sum?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
  exemplars?: OtlpExemplar[];
  flags?: number;
  min?: number;
  max?: number;
}
export interface OtlpExponentialHistogramDataPoint {
  attributes?: OtlpKeyValue[];
  startTimeUnixNano?: number;
  timeUnixNano?: number;
  count?: number;
  sum?: number;
  scale?: number;
  zeroCount?: number;
  positive?: { offset?: number; bucketCounts?: number[] };
  negative?: { offset?: number; bucketCounts?: number[] };
  flags?: number;
  exemplars?: OtlpExemplar[];
  min?: number;
  max?: number;
  zeroThreshold?: number;
}
export interface OtlpMetric {
  name: string;
  description?: string;
  unit?: string;
  gauge?: { dataPoints?: OtlpNumberDataPoint[] };
  sum?: { dataPoints?: OtlpNumberDataPoint[]; aggregationTemporality?: number; isMonotonic?: boolean };
  histogram?: { dataPoints?: OtlpHistogramDataPoint[]; aggregationTemporality?: number };
  exponentialHistogram?: { dataPoints?: OtlpExponentialHistogramDataPoint[]; aggregationTemporality?: number };
  summary?: { dataPoints?: unknown[] };
  metadata?: OtlpKeyValue[];
}
export interface OtlpScopeMetrics {
  scope?: { name?: string; version?: string; attributes?: OtlpKeyValue[]; droppedAttributesCount?: number };
  metrics?: OtlpMetric[];
  schemaUrl?: string;
}
export interface OtlpResourceMetrics {
  resource?: { attributes?: OtlpKeyValue[]; droppedAttributesCount?: number };
  scopeMetrics?: OtlpScopeMetrics[];
  schemaUrl?: string;
}
export interface OtlpMetricsRequestBody {
  resourceMetrics?: OtlpResourceMetrics[];
}

/** One export call as it arrived at the receiver. */
export interface ExportRequest {
  /** What actually arrived: decided by content-type for HTTP. */
  protocol: OtlpProtocol;
  /** HTTP path, or the gRPC method path. */
  path: string;
  /** Lower-cased HTTP request headers, or gRPC metadata (string values; repeats joined by ", "). */
  headers: Record<string, string>;
  contentType: string | undefined;
  /** HTTP `content-encoding`, or gRPC `grpc-encoding` when the client sent one. */
  contentEncoding: string | undefined;
  /** The serialized request after decompression (protobuf bytes or JSON text bytes). */
  rawBody: Buffer;
  /** For http/json: the JSON exactly as parsed, before normalization (hex ids, string int64s…). */
  json?: unknown;
  /** The decoded ExportMetricsServiceRequest as a plain object (numbers for int64 and enums). */
  body: OtlpMetricsRequestBody;
  /** `body` flattened into one record per metric (see flattenMetrics). */
  metrics: MetricRecord[];
  receivedAt: number;
}

// ---------------------------------------------------------------------------
// Flattening

export type AttrValue = string | number | boolean | null | Uint8Array | AttrValue[] | { [key: string]: AttrValue };
export type MetricType = 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary';
export type Temporality = 'unspecified' | 'delta' | 'cumulative';

export interface MetricPoint {
  attributes: Record<string, AttrValue>;
  startTimeUnixNano: number;
  timeUnixNano: number;
  /** sum/gauge: asInt or asDouble. */
  value?: number;
  /** sum/gauge: whether the value came as asInt (true) or asDouble (false). */
  isInt?: boolean;
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
  /** exponential histograms */
  scale?: number;
  zeroCount?: number;
  positive?: { offset: number; bucketCounts: number[] };
  negative?: { offset: number; bucketCounts: number[] };
  exemplars?: Array<{ value: number; timeUnixNano: number; traceId?: string; spanId?: string; filteredAttributes: Record<string, AttrValue> }>;
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
  /** OTLP AggregationTemporality (note: OTLP's numbers differ from sdk-metrics' enum). */
  temporality?: Temporality;
  points: MetricPoint[];
}

const TEMPORALITY: Record<number, Temporality> = { 0: 'unspecified', 1: 'delta', 2: 'cumulative' };

const toHex = (b: Uint8Array | undefined): string | undefined =>
  b?.length ? Buffer.from(b).toString('hex') : undefined;

export function anyValue(v: OtlpAnyValue | undefined): AttrValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return num(v.intValue);
  if (v.doubleValue !== undefined) return num(v.doubleValue);
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(anyValue);
  if (v.kvlistValue !== undefined) return attributesToRecord(v.kvlistValue.values);
  if (v.bytesValue !== undefined) return v.bytesValue;
  return null;
}

export function attributesToRecord(kvs: OtlpKeyValue[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of kvs ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (v && typeof v === 'object' && 'toNumber' in v && typeof (v as { toNumber: unknown }).toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  return Number(v ?? 0);
}
const nums = (a: unknown[] | undefined): number[] => (a ?? []).map(num);

function exemplars(ex: OtlpExemplar[] | undefined): MetricPoint['exemplars'] {
  if (!ex || ex.length === 0) return undefined;
  return ex.map((e) => ({
    value: num(e.asInt ?? e.asDouble),
    timeUnixNano: num(e.timeUnixNano),
    traceId: toHex(e.traceId),
    spanId: toHex(e.spanId),
    filteredAttributes: attributesToRecord(e.filteredAttributes),
  }));
}

function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

/** Flattens decoded request bodies (or ExportRequests) into one record per metric, in arrival order. */
export function flattenMetrics(input: OtlpMetricsRequestBody | ExportRequest | Array<OtlpMetricsRequestBody | ExportRequest>): MetricRecord[] {
  const list = Array.isArray(input) ? input : [input];
  const out: MetricRecord[] = [];
  for (const item of list) {
    const body: OtlpMetricsRequestBody = 'body' in item && 'rawBody' in item ? item.body : (item as OtlpMetricsRequestBody);
    for (const rm of body.resourceMetrics ?? []) {
      const resource = attributesToRecord(rm.resource?.attributes);
      for (const sm of rm.scopeMetrics ?? []) {
        const scope = {
          name: sm.scope?.name ?? '',
          version: sm.scope?.version ?? '',
          attributes: attributesToRecord(sm.scope?.attributes),
        };
        for (const m of sm.metrics ?? []) out.push(flattenMetric(resource, scope, m));
      }
    }
  }
  return out;
}

function flattenMetric(resource: MetricRecord['resource'], scope: MetricRecord['scope'], m: OtlpMetric): MetricRecord {
  const base = { resource, scope, name: m.name, unit: m.unit ?? '', description: m.description ?? '' };
  const common = (p: { attributes?: OtlpKeyValue[]; startTimeUnixNano?: number; timeUnixNano?: number; exemplars?: OtlpExemplar[] }) => ({
    attributes: attributesToRecord(p.attributes),
    startTimeUnixNano: num(p.startTimeUnixNano),
    timeUnixNano: num(p.timeUnixNano),
    exemplars: exemplars(p.exemplars),
  });
  /** What explicit and exponential histogram points share. */
  const histogramCommon = (p: OtlpHistogramDataPoint | OtlpExponentialHistogramDataPoint) => ({
    ...common(p),
    count: num(p.count),
    sum: p.sum === undefined ? undefined : num(p.sum),
    min: p.min === undefined ? undefined : num(p.min),
    max: p.max === undefined ? undefined : num(p.max),
  });
  const numberPoint = (p: OtlpNumberDataPoint): MetricPoint =>
    dropUndefined({
      ...common(p),
      value: p.asInt !== undefined ? num(p.asInt) : p.asDouble !== undefined ? num(p.asDouble) : undefined,
      isInt: p.asInt !== undefined,
    });
  if (m.sum) {
    return {
      ...base,
      type: 'sum',
      isMonotonic: Boolean(m.sum.isMonotonic),
      temporality: TEMPORALITY[num(m.sum.aggregationTemporality)] ?? 'unspecified',
      points: (m.sum.dataPoints ?? []).map(numberPoint),
    };
  }
  if (m.gauge) return { ...base, type: 'gauge', points: (m.gauge.dataPoints ?? []).map(numberPoint) };
  if (m.histogram) {
    return {
      ...base,
      type: 'histogram',
      temporality: TEMPORALITY[num(m.histogram.aggregationTemporality)] ?? 'unspecified',
      points: (m.histogram.dataPoints ?? []).map((p) =>
        dropUndefined({
          ...histogramCommon(p),
          bucketCounts: nums(p.bucketCounts),
          explicitBounds: nums(p.explicitBounds),
        }),
      ),
    };
  }
  if (m.exponentialHistogram) {
    const buckets = (b: { offset?: number; bucketCounts?: number[] } | undefined) => ({
      offset: num(b?.offset),
      bucketCounts: nums(b?.bucketCounts),
    });
    return {
      ...base,
      type: 'exponentialHistogram',
      temporality: TEMPORALITY[num(m.exponentialHistogram.aggregationTemporality)] ?? 'unspecified',
      points: (m.exponentialHistogram.dataPoints ?? []).map((p) =>
        dropUndefined({
          ...histogramCommon(p),
          scale: num(p.scale),
          zeroCount: num(p.zeroCount),
          positive: buckets(p.positive),
          negative: buckets(p.negative),
        }),
      ),
    };
  }
  return { ...base, type: 'summary', points: [] };
}

/** The last record named `name` (cumulative exports: the latest state). Throws, listing what was seen, if absent. */
export function findMetric(records: MetricRecord[], name: string): MetricRecord {
  for (let i = records.length - 1; i >= 0; i--) if (records[i]!.name === name) return records[i]!;
  const seen = [...new Set(records.map((r) => r.name))].sort();
  throw new Error(`metric ${JSON.stringify(name)} not received; got: ${seen.join(', ') || '(nothing)'}`);
}

/** The points of a record whose attributes include every pair in `match`. */
export function pointsMatching(record: MetricRecord, match: Record<string, AttrValue>): MetricPoint[] {
  return record.points.filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
}

// ---------------------------------------------------------------------------
// Decoding

const NORMALIZE: PbConversionOptions = { longs: Number, enums: Number, arrays: true, defaults: false };

/** Decodes ExportMetricsServiceRequest protobuf bytes into the normalized plain object. */
export function decodeProtobufRequest(bytes: Uint8Array): OtlpMetricsRequestBody {
  const msg = ExportMetricsServiceRequest.decode(bytes);
  return ExportMetricsServiceRequest.toObject(msg, NORMALIZE) as OtlpMetricsRequestBody;
}

const HEX = /^[0-9a-fA-F]*$/;
/**
 * OTLP/JSON differs from protobufjs' JSON mapping: trace/span ids are hex (not base64).
 * int64s as strings and enums as names or numbers are already accepted by fromObject.
 */
function fixJsonForProtobufjs(value: unknown, key?: string): unknown {
  if (Array.isArray(value)) return value.map((v) => fixJsonForProtobufjs(v));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fixJsonForProtobufjs(v, k);
    return out;
  }
  if ((key === 'traceId' || key === 'spanId') && typeof value === 'string') {
    if (!HEX.test(value) || value.length % 2) throw new Error(`OTLP/JSON ${key} must be hex, got ${JSON.stringify(value)}`);
    return Buffer.from(value, 'hex');
  }
  return value;
}

/** Decodes an OTLP/JSON ExportMetricsServiceRequest into the same normalized plain object. */
export function decodeJsonRequest(text: string): { json: unknown; body: OtlpMetricsRequestBody } {
  const json: unknown = JSON.parse(text);
  const msg = ExportMetricsServiceRequest.fromObject(fixJsonForProtobufjs(json));
  return { json, body: ExportMetricsServiceRequest.toObject(msg, NORMALIZE) as OtlpMetricsRequestBody };
}

// ---------------------------------------------------------------------------
// Receiver

/** How the receiver answers one request. Default: success, empty response. */
export interface ReceiverReply {
  /** HTTP status for HTTP requests (default 200). */
  httpStatus?: number;
  /** gRPC status code (grpc.status.*) for gRPC requests (default OK). */
  grpcCode?: number;
  /** Error message for non-OK replies. */
  message?: string;
  /** Sent in the ExportMetricsServiceResponse on success. */
  partialSuccess?: { rejectedDataPoints: number; errorMessage: string };
  /** Delay before replying (to exercise exporter timeouts). */
  delayMs?: number;
  /** HTTP only: a `Retry-After` header value. */
  retryAfter?: string;
}
export type ReplyFn = (request: ExportRequest) => ReceiverReply | undefined | undefined;

export interface OtlpReceiverOptions {
  protocol: OtlpProtocol;
  /** Decides each reply; may also be changed later via `receiver.respond`. */
  respond?: ReplyFn;
  /** Listen on this port (e.g. to bring a stopped receiver back); default: a free one. */
  port?: number;
}

export interface OtlpReceiver {
  /** The configured protocol (for HTTP, each request's `protocol` says what actually arrived). */
  readonly protocol: OtlpProtocol;
  /** What to give an exporter's `url`: `http://127.0.0.1:PORT/v1/metrics` for HTTP, `http://127.0.0.1:PORT` for gRPC. */
  readonly endpoint: string;
  /** `http://127.0.0.1:PORT`, e.g. for OTEL_EXPORTER_OTLP_ENDPOINT (the SDK appends /v1/metrics for HTTP). */
  readonly baseUrl: string;
  readonly port: number;
  /** Every successfully decoded request, in arrival order. */
  readonly requests: ExportRequest[];
  /** Requests that could not be decoded or hit the wrong path (the exporter got a 4xx / INVALID_ARGUMENT). */
  readonly errors: Error[];
  respond: ReplyFn | undefined;
  /** All requests flattened, in arrival order. */
  metrics(): MetricRecord[];
  /** Latest record named `name` across all requests; throws (listing what arrived) if none. */
  metric(name: string): MetricRecord;
  /** Resolves with the first request (already received or future) matching; rejects after timeoutMs. */
  waitFor(predicate?: (request: ExportRequest) => boolean, timeoutMs?: number): Promise<ExportRequest>;
  /** Resolves with the first record named `name` (optionally matching `predicate`) that arrives. */
  waitForMetric(name: string, predicate?: (record: MetricRecord) => boolean, timeoutMs?: number): Promise<MetricRecord>;
  /** Forgets recorded requests and errors. */
  clear(): void;
  close(): Promise<void>;
}

const openReceivers = new Set<OtlpReceiver>();

/** Closes every receiver still open (for afterEach/afterAll). */
export async function closeAllReceivers(): Promise<void> {
  await Promise.all([...openReceivers].map((r) => r.close()));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export async function startOtlpReceiver(options: OtlpReceiverOptions): Promise<OtlpReceiver> {
  const requests: ExportRequest[] = [];
  const errors: Error[] = [];
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of [...listeners]) l();
  };
  const record = (r: Omit<ExportRequest, 'metrics' | 'receivedAt'>): ExportRequest => {
    const full: ExportRequest = { ...r, metrics: flattenMetrics(r.body), receivedAt: Date.now() };
    requests.push(full);
    notify();
    return full;
  };
  const fail = (e: Error) => {
    errors.push(e);
    notify();
  };

  const transport =
    options.protocol === 'grpc'
      ? await startGrpc(record, fail, () => receiver.respond, options.port ?? 0)
      : await startHttp(record, fail, () => receiver.respond, options.port ?? 0);

  const waitFor = (predicate: (r: ExportRequest) => boolean = () => true, timeoutMs = 5000): Promise<ExportRequest> =>
    new Promise((resolve, reject) => {
      let seen = 0;
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        listeners.delete(check);
        if (timer) clearTimeout(timer);
      };
      const check = () => {
        for (; seen < requests.length; seen++) {
          const r = requests[seen]!;
          let ok = false;
          try {
            ok = predicate(r);
          } catch {
            ok = false;
          }
          if (ok) {
            done();
            resolve(r);
            return;
          }
        }
      };
      timer = setTimeout(() => {
        done();
        const names = [...new Set(requests.flatMap((r) => r.metrics.map((m) => m.name)))].sort();
        reject(
          new Error(
            `OTLP receiver (${options.protocol}): no matching request within ${timeoutMs} ms; ` +
              `${requests.length} request(s) received` +
              (names.length ? `, metrics: ${names.join(', ')}` : '') +
              (errors.length ? `; errors: ${errors.map((e) => e.message).join(' | ')}` : ''),
          ),
        );
      }, timeoutMs);
      listeners.add(check);
      check();
    });

  const receiver: OtlpReceiver = {
    protocol: options.protocol,
    endpoint: options.protocol === 'grpc' ? transport.baseUrl : transport.baseUrl + HTTP_METRICS_PATH,
    baseUrl: transport.baseUrl,
    port: transport.port,
    requests,
    errors,
    respond: options.respond,
    metrics: () => flattenMetrics(requests),
    metric: (name) => findMetric(flattenMetrics(requests), name),
    waitFor,
    async waitForMetric(name, predicate = () => true, timeoutMs = 5000) {
      let found: MetricRecord | undefined;
      await waitFor((r) => {
        found = [...r.metrics].reverse().find((m) => m.name === name && predicate(m));
        return found !== undefined;
      }, timeoutMs).catch((e: Error) => {
        throw new Error(`waiting for metric ${JSON.stringify(name)}: ${e.message}`);
      });
      return found!;
    },
    clear() {
      requests.length = 0;
      errors.length = 0;
    },
    async close() {
      openReceivers.delete(receiver);
      await transport.close();
    },
  };
  openReceivers.add(receiver);
  return receiver;
}

type Recorder = (r: Omit<ExportRequest, 'metrics' | 'receivedAt'>) => ExportRequest;
interface Transport {
  baseUrl: string;
  port: number;
  close(): Promise<void>;
}

// ----- HTTP ---------------------------------------------------------------

function decompress(body: Buffer, encoding: string | undefined): Buffer {
  switch ((encoding ?? 'identity').trim().toLowerCase()) {
    case 'identity':
    case '':
      return body;
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(body);
    case 'deflate':
      return inflateSync(body);
    case 'br':
      return brotliDecompressSync(body);
    default:
      throw new Error(`unsupported content-encoding ${encoding}`);
  }
}

function flatHeaders(h: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

async function startHttp(record: Recorder, fail: (e: Error) => void, getReply: () => ReplyFn | undefined, port: number): Promise<Transport> {
  const server: HttpServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', (e) => fail(e));
    req.on('end', () => {
      void handleHttp(req, res, Buffer.concat(chunks), record, fail, getReply).catch((e: Error) => {
        fail(e);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handleHttp(
  req: IncomingMessage,
  res: ServerResponse,
  compressed: Buffer,
  record: Recorder,
  fail: (e: Error) => void,
  getReply: () => ReplyFn | undefined,
): Promise<void> {
  const path = (req.url ?? '').split('?')[0]!;
  const contentType = req.headers['content-type'];
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const reject = (status: number, message: string) => {
    fail(new Error(`${req.method} ${req.url} (${contentType ?? 'no content-type'}): ${message}`));
    res.writeHead(status, { 'content-type': 'text/plain' }).end(message);
  };
  if (req.method !== 'POST') return reject(405, 'method not allowed');
  if (path !== HTTP_METRICS_PATH) return reject(404, `unexpected path ${path}`);

  let rawBody: Buffer;
  try {
    rawBody = decompress(compressed, req.headers['content-encoding']);
  } catch (e) {
    return reject(400, `cannot decompress: ${(e as Error).message}`);
  }

  let request: ExportRequest;
  const common = {
    path,
    headers: flatHeaders(req.headers),
    contentType,
    contentEncoding: req.headers['content-encoding'],
    rawBody,
  };
  const isJson = mime === 'application/json';
  try {
    if (mime === 'application/x-protobuf' || mime === 'application/protobuf') {
      request = record({ ...common, protocol: 'http/protobuf', body: decodeProtobufRequest(rawBody) });
    } else if (isJson) {
      const { json, body } = decodeJsonRequest(rawBody.toString('utf8'));
      request = record({ ...common, protocol: 'http/json', json, body });
    } else {
      return reject(415, `unsupported content-type ${contentType}`);
    }
  } catch (e) {
    return reject(400, `cannot decode: ${(e as Error).message}`);
  }

  const reply = getReply()?.(request) ?? {};
  if (reply.delayMs) await sleep(reply.delayMs);
  if (res.destroyed) return;
  const status = reply.httpStatus ?? 200;
  const headers: Record<string, string> = {};
  if (reply.retryAfter) headers['retry-after'] = reply.retryAfter;
  if (status < 200 || status > 299) {
    // OTLP/HTTP: failures carry a google.rpc.Status; a plain message is enough for the SDK.
    res.writeHead(status, { ...headers, 'content-type': 'text/plain' }).end(reply.message ?? `status ${status}`);
    return;
  }
  const response = reply.partialSuccess ? { partialSuccess: reply.partialSuccess } : {};
  if (isJson) {
    res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(response));
  } else {
    const bytes = ExportMetricsServiceResponse.encode(ExportMetricsServiceResponse.fromObject(response)).finish();
    res.writeHead(status, { ...headers, 'content-type': 'application/x-protobuf' }).end(Buffer.from(bytes));
  }
}

// ----- gRPC ---------------------------------------------------------------

const ENCODING_KEY = 'x-otlp-receiver-grpc-encoding';

async function startGrpc(record: Recorder, fail: (e: Error) => void, getReply: () => ReplyFn | undefined, port: number): Promise<Transport> {
  // grpc-js strips `grpc-encoding` (and content-type) from the metadata the handler sees.
  // To let tests verify OTEL_EXPORTER_OTLP_COMPRESSION over gRPC, an interceptor copies the
  // encoding grpc-js parsed from the request headers (its BaseServerInterceptingCall's
  // `incomingEncoding`, read defensively) into a private metadata key the handler pops.
  const server = new grpc.Server({
    interceptors: [
      (_method, call) => {
        let base: unknown = call;
        let encoding: string | undefined;
        for (let i = 0; i < 8 && base && typeof base === 'object'; i++) {
          const b = base as { incomingEncoding?: unknown; nextCall?: unknown };
          if (typeof b.incomingEncoding === 'string') {
            encoding = b.incomingEncoding;
            break;
          }
          base = b.nextCall;
        }
        return new grpc.ServerInterceptingCall(call, {
          start: (next) =>
            next({
              onReceiveMetadata: (metadata, mdNext) => {
                if (encoding) metadata.set(ENCODING_KEY, encoding);
                mdNext(metadata);
              },
            }),
        });
      },
    ],
  });
  const definition: grpc.ServiceDefinition = {
    Export: {
      path: GRPC_EXPORT_PATH,
      requestStream: false,
      responseStream: false,
      originalName: 'export',
      // Keep the raw bytes; decode in the handler so a decode failure is recorded and
      // answered with INVALID_ARGUMENT instead of an opaque internal error.
      requestDeserialize: (bytes: Buffer) => bytes,
      requestSerialize: (bytes: Buffer) => bytes,
      responseSerialize: (msg: object) => Buffer.from(ExportMetricsServiceResponse.encode(ExportMetricsServiceResponse.fromObject(msg)).finish()),
      responseDeserialize: (bytes: Buffer) => ExportMetricsServiceResponse.toObject(ExportMetricsServiceResponse.decode(bytes)),
    } satisfies grpc.MethodDefinition<Buffer, object>,
  };
  const exportHandler: grpc.handleUnaryCall<Buffer, object> = (call, callback) => {
    const encoding = call.metadata.get(ENCODING_KEY)[0];
    call.metadata.remove(ENCODING_KEY);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k.toLowerCase()] = Buffer.isBuffer(v) ? v.toString('base64') : String(v);
    for (const k of Object.keys(headers)) {
      const all = call.metadata.get(k);
      if (all.length > 1) headers[k] = all.map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : String(v))).join(', ');
    }
    let request: ExportRequest;
    try {
      request = record({
        protocol: 'grpc',
        path: GRPC_EXPORT_PATH,
        headers,
        contentType: 'application/grpc', // grpc-js does not expose it; it only routes application/grpc*
        contentEncoding: typeof encoding === 'string' ? encoding : undefined,
        rawBody: call.request,
        body: decodeProtobufRequest(call.request),
      });
    } catch (e) {
      const err = new Error(`gRPC Export: cannot decode: ${(e as Error).message}`);
      fail(err);
      callback({ code: grpc.status.INVALID_ARGUMENT, details: err.message });
      return;
    }
    const reply = getReply()?.(request) ?? {};
    const send = () => {
      if (reply.grpcCode !== undefined && reply.grpcCode !== grpc.status.OK) {
        callback({ code: reply.grpcCode, details: reply.message ?? `status ${reply.grpcCode}` });
      } else {
        callback(null, reply.partialSuccess ? { partialSuccess: reply.partialSuccess } : {});
      }
    };
    if (reply.delayMs) setTimeout(send, reply.delayMs).unref();
    else send();
  };
  server.addService(definition, { Export: exportHandler });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    baseUrl: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
