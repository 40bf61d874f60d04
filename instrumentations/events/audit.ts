/**
 * The audit trail: every tracked event that is switched on goes to the sinks (the
 * configured `events.sink` and those added with `events.addSink`), and, when log
 * export is configured (OTEL_LOGS_EXPORTER), becomes one OpenTelemetry log record.
 * A sink that throws or rejects never disturbs the app: its first failure is one
 * stderr line, later ones go to the diag logger. Nothing here runs when there is no
 * sink and no log export: track() checks `active` first.
 */
import { diag, SeverityNumber, type Attributes, type Logger } from '@opentelemetry/api';
import type { EventSink, TrackedEvent } from '../../src/config/types.js';
import { configWarning } from '../../src/log.js';
import { firstLine } from '../../src/util/errors.js';
import { isThenable } from '../shared/settle.js';
import type { EventAttributes } from './series.js';

interface Slot {
  sink: EventSink;
  label: string;
  failed: boolean;
}

const NO_ATTRIBUTES: EventAttributes = Object.freeze({});

export class Audit {
  private slots: Slot[] = [];
  private logger: Logger | undefined;
  private logFailed = false;
  /** Whether anything receives events. */
  active = false;

  /** Adds a sink; returns what removes it. */
  add(sink: EventSink, label: string): () => void {
    const slot: Slot = { sink, label, failed: false };
    this.slots = [...this.slots, slot];
    this.update();
    return () => {
      this.slots = this.slots.filter((s) => s !== slot);
      this.update();
    };
  }

  setLogger(logger: Logger | undefined): void {
    this.logger = logger;
    this.update();
  }

  emit(name: string, attributes: EventAttributes | undefined, value: number | undefined, time: number): void {
    const event: TrackedEvent = { name, attributes: attributes ?? NO_ATTRIBUTES, value, time };
    for (const slot of this.slots) deliver(slot, event);
    if (this.logger) this.log(this.logger, event);
  }

  private update(): void {
    this.active = this.slots.length > 0 || this.logger !== undefined;
  }

  private log(logger: Logger, event: TrackedEvent): void {
    try {
      const attributes =
        event.value === undefined ? event.attributes : { ...event.attributes, 'event.value': event.value };
      logger.emit({
        eventName: event.name,
        body: event.name,
        timestamp: event.time,
        severityNumber: SeverityNumber.INFO,
        severityText: 'INFO',
        attributes: attributes as Attributes,
      });
    } catch (err) {
      if (this.logFailed) return;
      this.logFailed = true;
      diag.error('otelkit: a tracked event could not be turned into a log record (reported once)', err);
    }
  }
}

function deliver(slot: Slot, event: TrackedEvent): void {
  try {
    const result = slot.sink(event);
    if (isThenable(result)) result.then(undefined, (err: unknown) => failed(slot, err));
  } catch (err) {
    failed(slot, err);
  }
}

function failed(slot: Slot, err: unknown): void {
  if (slot.failed) {
    diag.debug(`otelkit: the event sink ${slot.label} failed again`, err);
    return;
  }
  slot.failed = true;
  configWarning(
    `the event sink ${slot.label} failed (${firstLine(err)}); the app goes on, ` +
      'and further failures of this sink are not reported',
  );
}
