/**
 * Business events: `track(event, attributes?, value?)` feeds the metrics that the
 * `events.metrics` mapping declares for the event (otel.config.ts or register()),
 * with only the allowlisted attributes as metric attributes. Events can be switched
 * off by module, prefix or name (OTELKIT_EVENTS, `events.switches`, and at runtime
 * `events.disable(...)`), or per call (`{ enabled: false }`); a switched-off event
 * costs one Map lookup. Every event that is on also goes to the audit sinks and, with
 * OTEL_LOGS_EXPORTER set, becomes a log record. `events.bind(event, attributes)` is
 * the fast path for a hot event: its series are found once.
 *
 * Nothing here throws into the app.
 */
import { diag } from '@opentelemetry/api';
import type { EventSink } from '../../src/config/types.js';
import { disposeOnce, noopInstrumentation, type Instrumentation } from '../../src/instrumentation.js';
import { warnOnce } from '../../src/log.js';
import { isDisabled } from '../../src/meter-handoff.js';
import type { Feed } from './metrics.js';
import type { EventAttributes } from './series.js';
import { eventsState as state, type EventEntry, type EventsState } from './state.js';
import { switchName } from './switches.js';

export type { EventAttributes } from './series.js';

/** Per-call options of track(). */
export interface TrackOptions {
  /** The event's value (as a third argument of its own: `track(name, attributes, 12.5)`). */
  value?: number;
  /** `false`: this call does nothing (a per-call switch). */
  enabled?: boolean;
}

/** An event with its attributes fixed: `record()` costs a few field updates. */
export interface BoundEvent {
  readonly name: string;
  /** One occurrence of the event, with `value` as its value. */
  record(value?: number): void;
}

let trackFailed = false;

function failedOnce(err: unknown): void {
  if (trackFailed) return;
  trackFailed = true;
  diag.error('otelkit: tracking an event failed (reported once)', err);
}

/**
 * One occurrence of `event`. `attributes` may carry anything (the audit trail gets
 * them all); only the ones its metrics allowlist become metric attributes. The value
 * is `valueOrOptions` when a number, or its `value`.
 */
export function track(event: string, attributes?: EventAttributes, valueOrOptions?: number | TrackOptions): void {
  try {
    let value: number | undefined;
    if (typeof valueOrOptions === 'number') value = valueOrOptions;
    else if (valueOrOptions != null) {
      if (valueOrOptions.enabled === false) return;
      value = valueOrOptions.value;
    }
    const entry = state.entries.get(event);
    if (entry === undefined) state.miss(event, attributes, value);
    else if (entry.enabled) state.fire(entry, attributes, value);
  } catch (err) {
    failedOnce(err);
  }
}

type Series = Parameters<Feed['apply']>[0];

class Bound implements BoundEvent {
  private version = -1;
  private entry: EventEntry | undefined;
  private feeds: readonly Feed[] = [];
  private series: Series[] = [];

  constructor(
    readonly name: string,
    private readonly attributes: EventAttributes,
  ) {}

  record(value?: number): void {
    try {
      if (this.version !== state.version && !this.resolve(state)) {
        track(this.name, this.attributes, value);
        return;
      }
      const entry = this.entry!;
      if (!entry.enabled) return;
      const feeds = this.feeds;
      for (let i = 0; i < feeds.length; i++) {
        const feed = feeds[i]!;
        const n = feed.valueOf(this.attributes, value);
        if (n !== undefined) feed.apply(this.series[i]!, n);
      }
      state.after(entry, this.attributes, value);
    } catch (err) {
      failedOnce(err);
    }
  }

  /** Finds the entry and the series once the mapping is installed; false before (or past the unmapped cap). */
  private resolve(s: EventsState): boolean {
    if (!s.installed) return false;
    const entry = s.entryFor(this.name);
    if (!entry) return false;
    this.entry = entry;
    this.feeds = entry.feeds;
    this.series = entry.feeds.map((feed) => feed.seriesFor(this.attributes));
    this.version = s.version;
    return true;
  }
}

const noopBound = (name: string): BoundEvent => ({ name, record() {} });

function bind(event: string, attributes?: EventAttributes): BoundEvent {
  if (isDisabled()) return noopBound(String(event));
  if (typeof event !== 'string' || event === '') {
    warnOnce('event-name', 'track(): the event name must be a non-empty string; that event is ignored');
    return noopBound(String(event));
  }
  state.subscribe();
  return new Bound(event, Object.freeze({ ...attributes }));
}

function setSwitch(name: string | undefined, on: boolean): void {
  if (isDisabled()) return;
  state.subscribe();
  const parsed = switchName(name);
  if (name !== undefined && parsed === undefined) {
    warnOnce('event-switch', `events.${on ? 'enable' : 'disable'}(): expected a module or event name; ignored`);
    return;
  }
  state.switches.set(parsed, on);
  state.reswitch();
}

let sinks = 0;

/** The `events` API. */
export interface EventsApi {
  track: typeof track;
  /** `event` with its attributes fixed, for a hot path: `record(value)` finds no series. */
  bind(event: string, attributes?: EventAttributes): BoundEvent;
  /** Switches a module, prefix or event on; without a name, every event (earlier switches are overridden). */
  enable(name?: string): void;
  /** Switches a module, prefix or event off; without a name, every event. */
  disable(name?: string): void;
  /** Whether an event (module, prefix) is on now; without a name, whether the global switch is. */
  isEnabled(name?: string): boolean;
  /** Sends every tracked event that is on to `sink` too, until disposed. Its errors are caught. */
  addSink(sink: EventSink): Instrumentation;
}

export const events: EventsApi = Object.freeze({
  track,
  bind,
  enable: (name?: string) => setSwitch(name, true),
  disable: (name?: string) => setSwitch(name, false),
  isEnabled(name?: string): boolean {
    if (isDisabled()) return false;
    // Once registered, this installs the configured switches (OTELKIT_EVENTS) if nothing else did yet.
    state.subscribe();
    const parsed = switchName(name);
    return name !== undefined && parsed === undefined ? false : state.switches.enabled(parsed);
  },
  addSink(sink: EventSink): Instrumentation {
    if (isDisabled()) return noopInstrumentation;
    if (typeof sink !== 'function') {
      warnOnce('event-sink', 'events.addSink(): expected a function (event) => …; nothing is added');
      return noopInstrumentation;
    }
    state.subscribe();
    return disposeOnce(state.audit.add(sink, sink.name ? `"${sink.name}"` : `#${++sinks}`));
  },
});
