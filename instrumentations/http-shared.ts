/**
 * Pieces the HTTP server and client instrumentations share: method normalization,
 * error typing, and the series table that keeps one pre-built attribute set and one
 * in-place duration histogram per distinct attribute combination.
 *
 * Why not `histogram.record(value, attributes)` per request: the SDK hashes the
 * attribute object on every call (~0.5-1 µs), which alone costs several percent of
 * a hello-world request. Here a request costs a few Map lookups on small integer or
 * interned-string keys plus a bucket increment; the SDK gets the aggregated series
 * at collection through otelkit's MetricProducer (src/histograms/).
 */
import { diag, type Attributes, type Meter } from '@opentelemetry/api';
import type { OtelkitConfig } from '../src/config/types.js';
import type { Instrumentation } from '../src/instrumentation.js';
import { DurationHistogram, type DurationSeries } from '../src/histograms/duration-histogram.js';
import { OVERFLOW_ATTRIBUTES } from '../src/overflow.js';

/** The request methods the semantic conventions name; anything else is `_OTHER`. */
export const KNOWN_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;
export const OTHER_METHOD = '_OTHER';
/** Index of `_OTHER` in the method index space (0..KNOWN_METHODS.length). */
export const OTHER_METHOD_INDEX = KNOWN_METHODS.length;
export const METHOD_NAMES: readonly string[] = [...KNOWN_METHODS, OTHER_METHOD];

/**
 * Small integer for a request method (exact, case-sensitive match, as the conventions
 * ask). A switch, not a Map: Node's parser hands out interned method strings, so each
 * case is a pointer comparison.
 */
export function methodIndex(method: unknown): number {
  switch (method) {
    case 'GET':
      return 0;
    case 'HEAD':
      return 1;
    case 'POST':
      return 2;
    case 'PUT':
      return 3;
    case 'DELETE':
      return 4;
    case 'CONNECT':
      return 5;
    case 'OPTIONS':
      return 6;
    case 'TRACE':
      return 7;
    case 'PATCH':
      return 8;
    default:
      return OTHER_METHOD_INDEX;
  }
}

/** A low-cardinality `error.type` for a thrown/emitted error: its code, else its class name. */
export function errorType(err: unknown): string {
  if (err && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0 && code.length <= 64) return code;
    const name = (err as { name?: unknown }).name;
    if (typeof name === 'string' && name.length > 0 && name.length <= 64) return name;
  }
  return OTHER_METHOD; // `_OTHER` is also the conventions' fallback for error.type
}

/** One attribute combination: its attribute object (built once) and its duration series. */
export interface SeriesEntry {
  readonly attributes: Attributes;
  readonly duration: DurationSeries;
}

/**
 * The series of one duration histogram. Callers look series up with their own cheap
 * keys (nested maps of small ints and interned strings) and only build attributes on
 * a miss. At most `limit` distinct series; later combinations share one overflow
 * series, as the SDK's cardinality limit would do.
 */
export class SeriesTable {
  private readonly entries: SeriesEntry[] = [];
  private readonly histogram: DurationHistogram;
  private overflow: SeriesEntry | undefined;
  private readonly limit: number;

  constructor(
    meter: Meter,
    config: OtelkitConfig,
    name: string,
    description: string,
    /** Runs at each collection before the series are read (to record what is due). */
    private readonly beforeCollect?: () => void,
  ) {
    this.histogram = new DurationHistogram(meter, config, { name, description, live: () => this.series() });
    this.limit = this.histogram.cardinalityLimit - 1; // keep one slot for the overflow series
  }

  /** A new entry for `attributes`, or the overflow entry past the limit. */
  create(attributes: Attributes): SeriesEntry {
    if (this.entries.length >= this.limit) {
      if (!this.overflow) {
        diag.warn(
          `otelkit: ${this.histogram.name} reached ${this.limit} attribute sets; ` +
            'further ones are reported as otel.metric.overflow=true',
        );
        this.overflow = { attributes: OVERFLOW_ATTRIBUTES, duration: this.histogram.series(OVERFLOW_ATTRIBUTES) };
        this.entries.push(this.overflow);
      }
      return this.overflow;
    }
    const frozen = Object.freeze({ ...attributes });
    const entry: SeriesEntry = { attributes: frozen, duration: this.histogram.series(frozen) };
    this.entries.push(entry);
    return entry;
  }

  /** True once new combinations land in the overflow series (callers then stop caching misses). */
  get full(): boolean {
    return this.overflow !== undefined;
  }

  private *series(): Iterable<DurationSeries> {
    this.beforeCollect?.();
    for (const e of this.entries) yield e.duration;
  }
}

/** A diagnostics_channel subscriber that never throws into the app: a throw goes to diag. */
// biome-ignore lint/suspicious/noExplicitAny: each channel publishes its own message shape; the subscriber declares it.
export function guard(what: string, fn: (message: any) => void): (message: unknown, name: string | symbol) => void {
  return (message) => {
    try {
      fn(message);
    } catch (err) {
      diag.error(`otelkit: ${what} failed`, err);
    }
  };
}

/** The refcount behind a process-wide subscription. */
export interface SharedSubscription {
  users: number;
  stop?: () => void;
}

/**
 * One subscription for every handle: `start` runs for the first handle and returns
 * what undoes it, which runs when the last handle is disposed.
 */
export function shareSubscription(shared: SharedSubscription, start: () => () => void): Instrumentation {
  if (shared.users++ === 0) shared.stop = start();
  let disposed = false;
  return {
    dispose() {
      if (disposed) return;
      disposed = true;
      if (--shared.users > 0) return;
      const stop = shared.stop;
      shared.stop = undefined;
      stop?.();
    },
  };
}
