/**
 * Circuit-breaker instrumentation: current state (as a 0 / 0.5 / 1 gauge and as
 * one 0-or-1 series per state), state transitions by from/to, calls by outcome,
 * and a call-duration histogram, for
 * - opossum: its own events (`success`, `failure`, `timeout`, `reject`,
 *   `fallback` with latencies; `open`, `halfOpen`, `close`);
 * - cockatiel: `onStateChange`, `onSuccess` / `onFailure` (with durations), and
 *   `execute` wrapped to count calls rejected by an open (or isolated) circuit;
 * - anything else: the returned handle's `transition()` / `recordCall()`.
 * Counts are integer fields read by observable instruments; durations go to a
 * per-breaker histogram series aggregated in place (src/histograms/).
 */
import { diag, ValueType, type BatchObservableResult, type Meter, type Observable } from '@opentelemetry/api';
import type { OtelkitConfig } from '../src/config/types.js';
import { InPlaceHistogram, type HistogramSeries } from '../src/histograms/in-place-histogram.js';
import { observeSettled } from './shared/settle.js';
import { Family, listen, safeRead, wrapMethod, type Built, type Unhook } from './shared/targets.js';
import type { Instrumentation } from '../src/instrumentation.js';
import { CIRCUIT_BREAKER } from './metric-names.js';

export type CircuitState = 'closed' | 'open' | 'half_open';
export type CallOutcome = 'success' | 'failure' | 'timeout' | 'rejected' | 'fallback';
export type CircuitBreakerKind = 'opossum' | 'cockatiel' | 'generic';

export interface CircuitBreakerInstrumentationOptions {
  /** Reported as `circuit_breaker.name`. */
  name: string;
  /** Skip detection. */
  kind?: CircuitBreakerKind;
  /** Generic breakers: the state when instrumented (default closed). */
  initialState?: CircuitState;
}

/** What instrumentCircuitBreaker returns: dispose(), plus manual reporting for generic breakers. */
export interface CircuitBreakerInstrumentation extends Instrumentation {
  /** Reports a state change (counted only when the state differs from the current one). */
  transition(to: CircuitState): void;
  /** Reports one call; `durationSeconds` when the call ran (not for `rejected`/`fallback`). */
  recordCall(outcome: CallOutcome, durationSeconds?: number): void;
}

const STATE_VALUE: Record<CircuitState, number> = { closed: 0, open: 1, half_open: 0.5 };
const STATES: CircuitState[] = ['closed', 'open', 'half_open'];

type NameAttrs = { 'circuit_breaker.name': string };
type TransitionAttrs = NameAttrs & {
  'circuit_breaker.from_state': CircuitState;
  'circuit_breaker.to_state': CircuitState;
};

let callDuration: InPlaceHistogram | undefined;

class BreakerRecord {
  success = 0;
  failure = 0;
  timeout = 0;
  rejected = 0;
  fallback = 0;
  callSeries: HistogramSeries | undefined;
  /** The latest state change, for /stats (a change is rare: no cost per call). */
  last: { from: CircuitState; to: CircuitState; atMs: number } | undefined;
  readonly transitions = new Map<string, { attrs: TransitionAttrs; count: number }>();
  readonly attrs: NameAttrs;
  readonly outcomeAttrs: Record<CallOutcome, NameAttrs & { 'circuit_breaker.call.outcome': CallOutcome }>;
  readonly stateAttrs: Record<CircuitState, NameAttrs & { 'circuit_breaker.state': CircuitState }>;

  constructor(
    readonly name: string,
    public state: CircuitState,
  ) {
    this.attrs = Object.freeze({ 'circuit_breaker.name': name });
    const outcome = (o: CallOutcome) =>
      Object.freeze({ 'circuit_breaker.name': name, 'circuit_breaker.call.outcome': o });
    this.outcomeAttrs = {
      success: outcome('success'),
      failure: outcome('failure'),
      timeout: outcome('timeout'),
      rejected: outcome('rejected'),
      fallback: outcome('fallback'),
    };
    const inState = (s: CircuitState) => Object.freeze({ 'circuit_breaker.name': name, 'circuit_breaker.state': s });
    this.stateAttrs = { closed: inState('closed'), open: inState('open'), half_open: inState('half_open') };
  }

  transition(to: CircuitState): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.last = { from, to, atMs: Date.now() };
    const key = `${from}>${to}`;
    const t = this.transitions.get(key);
    if (t) t.count++;
    else {
      this.transitions.set(key, {
        attrs: Object.freeze({
          'circuit_breaker.name': this.name,
          'circuit_breaker.from_state': from,
          'circuit_breaker.to_state': to,
        }),
        count: 1,
      });
    }
  }

  /** Duration in milliseconds, as the libraries report it. */
  duration(ms: unknown): void {
    if (callDuration !== undefined && typeof ms === 'number' && ms >= 0)
      (this.callSeries ??= callDuration.series(this.attrs)).record(ms / 1000);
  }
}

interface BreakerInstruments {
  state: Observable;
  current: Observable;
  transitions: Observable;
  calls: Observable;
}
let instruments: BreakerInstruments | undefined;

const family = new Family<BreakerRecord>({
  kind: 'circuit breaker',
  stats: {
    section: 'breakers',
    entry: (r) => ({
      name: r.name,
      state: r.state,
      lastTransition: r.last ? { from: r.last.from, to: r.last.to, time: new Date(r.last.atMs).toISOString() } : null,
      window: 'since instrumented',
      calls: { success: r.success, failure: r.failure, timeout: r.timeout, rejected: r.rejected, fallback: r.fallback },
    }),
  },
  instruments(meter: Meter, config: OtelkitConfig): Observable[] {
    callDuration = new InPlaceHistogram(meter, config, {
      name: CIRCUIT_BREAKER.callDuration.name,
      description: 'Duration of calls the breaker let through',
      live: () => Array.from(family.live, (r) => r.callSeries),
    });
    instruments = {
      state: meter.createObservableGauge(CIRCUIT_BREAKER.state.name, {
        description: 'Breaker state: 0 closed, 0.5 half-open, 1 open',
      }),
      current: meter.createObservableGauge(CIRCUIT_BREAKER.stateCurrent.name, {
        unit: CIRCUIT_BREAKER.stateCurrent.unit,
        description: '1 for the state the breaker is in, 0 for the others',
        valueType: ValueType.INT,
      }),
      transitions: meter.createObservableCounter(CIRCUIT_BREAKER.transitions.name, {
        unit: CIRCUIT_BREAKER.transitions.unit,
        description: 'State changes, by from and to state',
        valueType: ValueType.INT,
      }),
      calls: meter.createObservableCounter(CIRCUIT_BREAKER.calls.name, {
        unit: CIRCUIT_BREAKER.calls.unit,
        description:
          'Calls by outcome (a fallback is counted besides the failure, timeout or rejection that caused it)',
        valueType: ValueType.INT,
      }),
    };
    return Object.values(instruments);
  },
  observe(result: BatchObservableResult, r: BreakerRecord): void {
    const i = instruments!;
    result.observe(i.state, STATE_VALUE[r.state], r.attrs);
    for (const s of STATES) result.observe(i.current, r.state === s ? 1 : 0, r.stateAttrs[s]);
    for (const t of r.transitions.values()) result.observe(i.transitions, t.count, t.attrs);
    result.observe(i.calls, r.success, r.outcomeAttrs.success);
    result.observe(i.calls, r.failure, r.outcomeAttrs.failure);
    result.observe(i.calls, r.timeout, r.outcomeAttrs.timeout);
    result.observe(i.calls, r.rejected, r.outcomeAttrs.rejected);
    result.observe(i.calls, r.fallback, r.outcomeAttrs.fallback);
  },
});

/**
 * Reports the state, transitions, call outcomes and call durations of `breaker`
 * as `circuit_breaker.*` metrics with `circuit_breaker.name = options.name`.
 * Detects opossum and cockatiel; any other object is a generic breaker reported
 * through the handle's `transition()` and `recordCall()`.
 *
 * The same breaker instrumented twice returns the first handle. `dispose()`
 * removes the listeners and stops reporting. A no-op when otelkit is disabled.
 */
export function instrumentCircuitBreaker(
  breaker: object,
  options: CircuitBreakerInstrumentationOptions,
): CircuitBreakerInstrumentation {
  return family.instrument(
    breaker,
    options?.name,
    (target, name, previous, unhooks) => build(target as Record<string, unknown>, name, options, previous, unhooks),
    (base, record) => {
      let live = record !== undefined;
      return {
        dispose() {
          live = false;
          base.dispose();
        },
        transition(to: CircuitState) {
          if (live && STATES.includes(to)) record!.transition(to);
        },
        recordCall(outcome: CallOutcome, durationSeconds?: number) {
          if (!live) return;
          count(record!, outcome);
          if (durationSeconds !== undefined) record!.duration(durationSeconds * 1000);
        },
      };
    },
  );
}

function detectCircuitBreakerKind(breaker: object): CircuitBreakerKind {
  const t = breaker as Record<string, unknown>;
  if (typeof t.fire === 'function' && typeof t.on === 'function' && 'opened' in t && 'halfOpen' in t) return 'opossum';
  if (typeof t.execute === 'function' && typeof t.onStateChange === 'function' && typeof t.onBreak === 'function')
    return 'cockatiel';
  return 'generic';
}

function count(r: BreakerRecord, outcome: CallOutcome): void {
  switch (outcome) {
    case 'success':
      r.success++;
      break;
    case 'failure':
      r.failure++;
      break;
    case 'timeout':
      r.timeout++;
      break;
    case 'rejected':
      r.rejected++;
      break;
    case 'fallback':
      r.fallback++;
      break;
  }
}

function build(
  t: Record<string, unknown>,
  name: string,
  options: CircuitBreakerInstrumentationOptions,
  previous: BreakerRecord | undefined,
  unhooks: Unhook[],
): Built<BreakerRecord> {
  const kind = options.kind ?? detectCircuitBreakerKind(t);
  switch (kind) {
    case 'opossum':
      return opossum(t, previous ?? new BreakerRecord(name, 'closed'), unhooks);
    case 'cockatiel':
      return cockatiel(t, previous ?? new BreakerRecord(name, 'closed'), unhooks);
    default:
      return { record: previous ?? new BreakerRecord(name, options.initialState ?? 'closed'), unhooks };
  }
}

function opossumState(t: Record<string, unknown>): CircuitState {
  if (safeRead(() => t.halfOpen) === true) return 'half_open';
  if (safeRead(() => t.opened) === true) return 'open';
  return 'closed';
}

function opossum(t: Record<string, unknown>, r: BreakerRecord, unhooks: Unhook[]): Built<BreakerRecord> {
  r.state = opossumState(t);
  const on = (event: string, listener: (...args: never[]) => void) => {
    const u = listen(t, event, listener);
    if (u) unhooks.push(u);
  };
  on('success', (_result: unknown, latency: number) => {
    r.success++;
    r.duration(latency);
  });
  // A timeout emits `timeout`, then `failure` with the same ETIMEDOUT error.
  on('failure', (err: { code?: unknown } | undefined, latency: number) => {
    if (err?.code === 'ETIMEDOUT') return;
    r.failure++;
    r.duration(latency);
  });
  on('timeout', (_err: unknown, latency: number) => {
    r.timeout++;
    r.duration(latency);
  });
  on('reject', () => void r.rejected++);
  on('fallback', () => void r.fallback++);
  on('open', () => r.transition('open'));
  on('halfOpen', () => r.transition('half_open'));
  on('close', () => r.transition('closed'));
  return { record: r, unhooks };
}

const COCKATIEL_STATES: Record<number, CircuitState> = { 0: 'closed', 1: 'open', 2: 'half_open', 3: 'open' };

interface Disposable {
  dispose(): void;
}
type CockatielEvent<T> = (listener: (value: T) => void) => Disposable;

function cockatiel(t: Record<string, unknown>, r: BreakerRecord, unhooks: Unhook[]): Built<BreakerRecord> {
  r.state = COCKATIEL_STATES[safeRead(() => t.state as number) ?? 0] ?? 'closed';
  const sub = <T>(event: string, listener: (value: T) => void) => {
    const d = (t[event] as CockatielEvent<T>).call(t, listener);
    unhooks.push(() => d.dispose());
  };
  sub<number>('onStateChange', (state) => r.transition(COCKATIEL_STATES[state] ?? 'open'));
  sub<{ duration: number }>('onSuccess', (e) => {
    r.success++;
    r.duration(e?.duration);
  });
  sub<{ duration: number; reason?: { error?: { isTaskCancelledError?: boolean } } }>('onFailure', (e) => {
    if (e?.reason?.error?.isTaskCancelledError) r.timeout++;
    else r.failure++;
    r.duration(e?.duration);
  });
  const onRejected = (err: unknown) => {
    if (err instanceof Error && ('isBrokenCircuitError' in err || 'isIsolatedCircuitError' in err)) r.rejected++;
  };
  const unwrap = wrapMethod(
    t,
    'execute',
    (execute) =>
      function (this: unknown): unknown {
        return observeSettled(execute.apply(this, arguments as unknown as unknown[]), undefined, onRejected);
      },
  );
  if (unwrap) unhooks.push(unwrap);
  else diag.warn(`otelkit: could not wrap execute() of circuit breaker "${r.name}"; rejected calls are not counted`);
  return { record: r, unhooks };
}
