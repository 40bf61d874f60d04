/**
 * A local OTLP metrics and logs receiver for tests: what the real exporters send is decoded with the
 * official OTLP protobuf definitions (./otlp/decode.ts) and kept per request; nothing here mocks
 * an exporter. `http/protobuf` and `http/json` share one HTTP listener (each request's `protocol`
 * says what actually arrived); `grpc` is a real grpc-js server. Binds 127.0.0.1 only.
 */
import { findMetric, type LogEntry, type MetricRecord } from './otlp/decode.js';
import { startGrpcListener } from './otlp/grpc-listener.js';
import { HTTP_LOGS_PATH, HTTP_METRICS_PATH, startHttpListener } from './otlp/http-listener.js';

export { pointsMatching, type LogEntry, type MetricPoint, type MetricRecord } from './otlp/decode.js';

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

/** One export call as it arrived. */
export interface ExportRequest {
  protocol: OtlpProtocol;
  /** What the request carried: an ExportMetricsServiceRequest or an ExportLogsServiceRequest. */
  signal: 'metrics' | 'logs';
  /** Lower-cased HTTP request headers, or gRPC metadata (repeats joined by ", "). */
  headers: Record<string, string>;
  contentType: string | undefined;
  /** HTTP `content-encoding`, or the gRPC message encoding, when the client compressed. */
  contentEncoding: string | undefined;
  metrics: MetricRecord[];
  /** Log records (for `signal: 'logs'`). */
  logs: LogEntry[];
}

/** How the receiver answers one request. Default: success. */
export interface ReceiverReply {
  /** For HTTP requests (default 200). */
  httpStatus?: number;
  /** grpc.status.* for gRPC requests (default OK). */
  grpcCode?: number;
  /** Error message for non-OK replies. */
  message?: string;
  /** Delay before replying (an exporter that times out). */
  delayMs?: number;
}
export type ReplyFn = (request: ExportRequest) => ReceiverReply | undefined;

/** What a listener hands each decoded request to, and what it needs back. */
export type OnExport = (request: ExportRequest) => ReceiverReply;
export interface Listener {
  port: number;
  close(): Promise<void>;
}

export interface OtlpReceiver {
  readonly protocol: OtlpProtocol;
  /** For an exporter's `url`: `http://127.0.0.1:PORT/v1/metrics` for HTTP, `http://127.0.0.1:PORT` for gRPC. */
  readonly endpoint: string;
  /** `http://127.0.0.1:PORT`, e.g. for OTEL_EXPORTER_OTLP_ENDPOINT (HTTP exporters append /v1/metrics). */
  readonly baseUrl: string;
  /** For a log exporter's `url`: `…/v1/logs` for HTTP, as `endpoint` for gRPC. */
  readonly logsEndpoint: string;
  readonly port: number;
  /** Every decoded request, in arrival order. */
  readonly requests: ExportRequest[];
  /** Requests that could not be decoded or hit the wrong path (answered 4xx / INVALID_ARGUMENT). */
  readonly errors: Error[];
  /** Decides each reply; may be changed at any time. */
  respond: ReplyFn | undefined;
  /** Latest record named `name` across all requests; throws (listing what arrived) if none. */
  metric(name: string): MetricRecord;
  /** Resolves with the first request (already received or future) matching; rejects after timeoutMs. */
  waitFor(predicate?: (request: ExportRequest) => boolean, timeoutMs?: number): Promise<ExportRequest>;
  /** Every log record received so far, in arrival order. */
  logs(): LogEntry[];
  /** Resolves with every log record received so far once `predicate` holds for them; rejects after timeoutMs. */
  waitForLogs(predicate: (logs: LogEntry[]) => boolean, timeoutMs?: number): Promise<LogEntry[]>;
  /** Resolves with the first record named `name` (optionally matching `predicate`) received. */
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

export async function startOtlpReceiver(options: {
  protocol: OtlpProtocol;
  respond?: ReplyFn;
  /** Listen on this port (e.g. to bring a stopped receiver back); default: a free one. */
  port?: number;
}): Promise<OtlpReceiver> {
  const { protocol } = options;
  const requests: ExportRequest[] = [];
  const errors: Error[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  const onExport: OnExport = (request) => {
    requests.push(request);
    notify();
    return receiver.respond?.(request) ?? {};
  };
  const onError = (e: Error) => {
    errors.push(e);
    notify();
  };
  const start = protocol === 'grpc' ? startGrpcListener : startHttpListener;
  const listener = await start(options.port ?? 0, onExport, onError);
  const baseUrl = `http://127.0.0.1:${listener.port}`;

  const waitFor: OtlpReceiver['waitFor'] = (predicate = () => true, timeoutMs = 5000) =>
    new Promise((resolve, reject) => {
      let seen = 0;
      const check = () => {
        for (; seen < requests.length; seen++) {
          const request = requests[seen]!;
          let match = false;
          try {
            match = predicate(request);
          } catch {} // a predicate that throws on this request does not match it
          if (!match) continue;
          stop();
          return resolve(request);
        }
      };
      const timer = setTimeout(() => {
        stop();
        const names = [...new Set(requests.flatMap((r) => r.metrics.map((m) => m.name)))].sort();
        reject(
          new Error(
            `OTLP receiver (${protocol}): no matching request within ${timeoutMs} ms; ` +
              `${requests.length} request(s) received` +
              (names.length ? `, metrics: ${names.join(', ')}` : '') +
              (errors.length ? `; errors: ${errors.map((e) => e.message).join(' | ')}` : ''),
          ),
        );
      }, timeoutMs);
      const stop = () => {
        waiters.delete(check);
        clearTimeout(timer);
      };
      waiters.add(check);
      check();
    });

  const receiver: OtlpReceiver = {
    protocol,
    endpoint: protocol === 'grpc' ? baseUrl : baseUrl + HTTP_METRICS_PATH,
    baseUrl,
    logsEndpoint: protocol === 'grpc' ? baseUrl : baseUrl + HTTP_LOGS_PATH,
    port: listener.port,
    requests,
    errors,
    respond: options.respond,
    metric: (name) =>
      findMetric(
        requests.flatMap((r) => r.metrics),
        name,
      ),
    waitFor,
    logs: () => requests.flatMap((r) => r.logs),
    async waitForLogs(predicate, timeoutMs = 5000) {
      const all = () => requests.flatMap((r) => r.logs);
      await waitFor(() => predicate(all()), timeoutMs).catch((e: Error) => {
        throw new Error(`waiting for log records (${all().length} received): ${e.message}`);
      });
      return all();
    },
    async waitForMetric(name, predicate = () => true, timeoutMs = 5000) {
      const matching = (r: ExportRequest) => r.metrics.findLast((m) => m.name === name && predicate(m));
      const request = await waitFor((r) => matching(r) !== undefined, timeoutMs).catch((e: Error) => {
        throw new Error(`waiting for metric ${JSON.stringify(name)}: ${e.message}`);
      });
      return matching(request)!;
    },
    clear() {
      requests.length = 0;
      errors.length = 0;
    },
    async close() {
      openReceivers.delete(receiver);
      await listener.close();
    },
  };
  openReceivers.add(receiver);
  return receiver;
}
