/**
 * The hand-off of otelkit's meter from the core to the instrumentations. The OTel API
 * has no proxy meter, so instrumentations created before register() queue a callback
 * here and create their (observable) instruments once the meter exists.
 */
import { diag, type Meter } from '@opentelemetry/api';
import type { OtelkitConfig } from './config/types.js';
import { processSingleton } from './process-singleton.js';
import { otelkitState } from './state.js';

export interface MeterContext {
  meter: Meter;
  config: OtelkitConfig;
}

type Listener = (ctx: MeterContext) => void;

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
    safeCall(listener, h.context);
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
  for (const listener of listeners) safeCall(listener, ctx);
}

/** True when otelkit was registered disabled or OTEL_SDK_DISABLED is set: instrumentations become no-ops. */
export function isDisabled(): boolean {
  return otelkitState().disabled;
}

function safeCall(listener: Listener, ctx: MeterContext): void {
  try {
    listener(ctx);
  } catch (err) {
    diag.error('otelkit: an instrumentation failed to create its instruments', err);
  }
}

function noop(): void {}
