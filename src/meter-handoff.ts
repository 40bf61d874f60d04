/**
 * The hand-off of otelkit's meter from the core to the instrumentations. The OTel API
 * has no proxy meter, so instrumentations created before register() queue a callback
 * here and create their (observable) instruments once the meter exists.
 */
import type { Logger, Meter } from '@opentelemetry/api';
import type { OtelkitConfig } from './config/types.js';
import { processSingleton } from './process-singleton.js';
import { otelkitState } from './state.js';
import { tryOrLog } from './util/errors.js';

export interface MeterContext {
  meter: Meter;
  config: OtelkitConfig;
  /** Emits log records to the configured log exporters (OTEL_LOGS_EXPORTER); absent when there are none. */
  logger?: Logger;
}

type Listener = (ctx: MeterContext) => void;

const LISTENER_FAILED = 'an instrumentation failed to create its instruments';

interface Handoff {
  /** Set once register() published the meter. */
  context?: MeterContext;
  /** Waiting for it. */
  listeners: Set<Listener>;
}

/** Process-wide: an instrumentation from either build (ESM, CJS) gets the one meter. */
function handoff(): Handoff {
  return processSingleton<Handoff>('otelkit.meterHandoff', () => ({ listeners: new Set() }));
}

/**
 * Runs `listener` with otelkit's meter now if registered, else at registration.
 * Returns an unsubscribe function. Never called when otelkit is disabled.
 * A throwing listener is logged through diag, never rethrown.
 */
export function onMeter(listener: Listener): () => void {
  const h = handoff();
  if (h.context) {
    tryOrLog(LISTENER_FAILED, listener, h.context);
    return noop;
  }
  h.listeners.add(listener);
  return () => h.listeners.delete(listener);
}

/** Called by register() once the provider exists. */
export function publishMeter(ctx: MeterContext): void {
  const h = handoff();
  h.context = ctx;
  const listeners = [...h.listeners];
  h.listeners.clear();
  for (const listener of listeners) tryOrLog(LISTENER_FAILED, listener, ctx);
}

/** True when otelkit was registered disabled or OTEL_SDK_DISABLED is set: instrumentations become no-ops. */
export function isDisabled(): boolean {
  return otelkitState().disabled;
}

function noop(): void {}
