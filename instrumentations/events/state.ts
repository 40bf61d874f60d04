/**
 * The process-wide state of business events (a processSingleton, so the ESM and CJS
 * builds of one app share it): one entry per event name, holding whether it is
 * switched on and the feeds to its metrics. A tracked event is one Map lookup and a
 * flag read before any work; its entry is built when the mapping is installed (at
 * register(), from config.events) or, for an event with no declared metric, when it
 * is first tracked. Those are counted in `otelkit.events.unmapped`, with a cap on
 * distinct names like every otelkit instrument.
 *
 * Events tracked before register() are kept (at most MAX_PENDING) and replayed once
 * the mapping is known.
 */
import { diag } from '@opentelemetry/api';
import { InPlaceNumbers } from '../../src/histograms/in-place-numbers.js';
import { warnOnce } from '../../src/log.js';
import { isDisabled, onMeter, type MeterContext } from '../../src/meter-handoff.js';
import { OVERFLOW_ATTRIBUTES } from '../../src/overflow.js';
import { processSingleton } from '../../src/process-singleton.js';
import { DEFAULT_CARDINALITY_LIMIT, cardinalityLimitFor } from '../../src/series-policy.js';
import { Audit } from './audit.js';
import { createEventMetrics, type Feed } from './metrics.js';
import { NumberSeries, type EventAttributes } from './series.js';
import { Switches } from './switches.js';

const UNMAPPED = 'otelkit.events.unmapped';
const MAX_PENDING = 1000;
/** Unmapped event names warned about one by one; after these, one line for the rest. */
const UNMAPPED_WARNINGS = 10;

export interface EventEntry {
  readonly name: string;
  enabled: boolean;
  readonly feeds: readonly Feed[];
  /** For an event not declared in events.metrics: how often it was tracked (otelkit.events.unmapped). */
  readonly unmapped: NumberSeries | undefined;
}

interface Pending {
  name: string;
  attributes: EventAttributes | undefined;
  value: number | undefined;
  time: number;
}

export class EventsState {
  readonly entries = new Map<string, EventEntry>();
  readonly switches = new Switches();
  readonly audit = new Audit();
  installed = false;
  /** Bumped when the mapping is installed, so bound events look their series up again. */
  version = 0;
  private pending: Pending[] = [];
  private droppedEarly = 0;
  private subscribed = false;
  private unmappedNames = 0;
  private unmappedWarned = 0;
  private unmappedLimit = DEFAULT_CARDINALITY_LIMIT;
  private readonly unmappedOverflow = new NumberSeries(OVERFLOW_ATTRIBUTES);

  /** One tracked event that is switched on. `time` given for a replayed event. */
  fire(entry: EventEntry, attributes: EventAttributes | undefined, value: number | undefined, time?: number): void {
    const feeds = entry.feeds;
    for (let i = 0; i < feeds.length; i++) feeds[i]!.track(attributes, value);
    this.after(entry, attributes, value, time);
  }

  /** What follows the metrics of an event that is switched on: the unmapped count, the audit trail. */
  after(entry: EventEntry, attributes: EventAttributes | undefined, value: number | undefined, time?: number): void {
    if (entry.unmapped !== undefined && entry.unmapped.value++ === 0) this.warnUnmapped(entry.name);
    if (this.audit.active) this.audit.emit(entry.name, attributes, value, time ?? Date.now());
  }

  /** The entry of `name` once the mapping is installed, created for an unmapped name; undefined past the cap. */
  entryFor(name: string): EventEntry | undefined {
    return this.entries.get(name) ?? this.unmappedEntry(name);
  }

  /** A track() of an event that has no entry: not registered yet, not mapped, or not a name at all. */
  miss(name: unknown, attributes: EventAttributes | undefined, value: number | undefined, time?: number): void {
    if (isDisabled()) return;
    if (typeof name !== 'string' || name === '') {
      warnOnce('event-name', 'track(): the event name must be a non-empty string; that event is ignored');
      return;
    }
    if (!this.installed) {
      if (this.pending.length < MAX_PENDING) this.pending.push({ name, attributes, value, time: Date.now() });
      else this.droppedEarly++;
      // After the push: when otelkit is registered already, this installs the mapping and replays it now.
      this.subscribe();
      return;
    }
    const entry = this.unmappedEntry(name);
    if (entry) {
      if (entry.enabled) this.fire(entry, attributes, value, time);
      return;
    }
    // Past the cap: counted in the overflow series, never kept.
    if (!this.switches.enabled(name)) return;
    this.unmappedOverflow.value++;
    if (this.audit.active) this.audit.emit(name, attributes, value, time ?? Date.now());
  }

  /** After a switch changed: every entry's flag again. */
  reswitch(): void {
    for (const entry of this.entries.values()) entry.enabled = this.switches.enabled(entry.name);
  }

  subscribe(): void {
    if (this.subscribed) return;
    this.subscribed = true;
    onMeter((ctx) => this.install(ctx));
  }

  private install({ meter, config, logger }: MeterContext): void {
    const feeds = createEventMetrics(meter, config);
    this.switches.configure(config.events.switches, config.events.modules);
    for (const [name, list] of feeds)
      this.entries.set(name, { name, enabled: this.switches.enabled(name), feeds: list, unmapped: undefined });
    this.unmappedLimit = cardinalityLimitFor(config, UNMAPPED);
    new InPlaceNumbers(meter, {
      name: UNMAPPED,
      unit: '{event}',
      description: 'Tracked events with no metric declared for them (events.metrics), by event name',
      kind: 'counter',
      live: () => this.unmappedSeries(),
    });
    if (config.events.sink) this.audit.add(config.events.sink, `"${config.events.sink.name || 'events.sink'}"`);
    if (logger) this.audit.setLogger(logger);
    this.installed = true;
    this.version++;
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) {
      const entry = this.entries.get(p.name);
      if (entry === undefined) this.miss(p.name, p.attributes, p.value, p.time);
      else if (entry.enabled) this.fire(entry, p.attributes, p.value, p.time);
    }
    if (this.droppedEarly > 0)
      diag.warn(
        `otelkit: ${this.droppedEarly} events tracked before register() beyond the first ${MAX_PENDING} were lost`,
      );
  }

  private unmappedEntry(name: string): EventEntry | undefined {
    if (this.unmappedNames >= this.unmappedLimit - 1) return undefined;
    this.unmappedNames++;
    const entry: EventEntry = {
      name,
      enabled: this.switches.enabled(name),
      feeds: [],
      unmapped: new NumberSeries(Object.freeze({ 'event.name': name })),
    };
    this.entries.set(name, entry);
    return entry;
  }

  private warnUnmapped(name: string): void {
    const n = ++this.unmappedWarned;
    if (n <= UNMAPPED_WARNINGS)
      warnOnce(
        `event-unmapped:${name}`,
        `track("${name}"): no metric is declared for this event (events.metrics in otel.config.ts); ` +
          `it is counted in ${UNMAPPED}`,
      );
    else if (n === UNMAPPED_WARNINGS + 1)
      warnOnce('event-unmapped-more', `more events with no declared metric; they are counted in ${UNMAPPED} only`);
  }

  private *unmappedSeries(): Generator<NumberSeries> {
    for (const entry of this.entries.values()) if (entry.unmapped && entry.unmapped.value > 0) yield entry.unmapped;
    if (this.unmappedOverflow.value > 0) yield this.unmappedOverflow;
  }
}

/** Looked up once: track() reads it, and a processSingleton lookup hashes its key. */
export const eventsState = processSingleton('otelkit.events', () => new EventsState());
