/**
 * The hand-off between the core and instrumentations. The OTel API has no proxy
 * meter, so instrumentations created before register() queue a callback here and
 * create their (observable) instruments once a meter exists.
 */
import type { Meter } from '@opentelemetry/api';
import type { OtelkitConfig } from './config/types.js';
import { otelkitState } from './state.js';

export interface MeterContext {
  meter: Meter;
  config: OtelkitConfig;
}

type Listener = (ctx: MeterContext) => void;

/**
 * Runs `listener` with otelkit's meter now if registered, else at registration.
 * Returns an unsubscribe function. Never called when otelkit is disabled.
 * A throwing listener is logged through diag, never rethrown.
 */
export function onMeter(listener: Listener): () => void {
  const state = otelkitState();
  if (state.meterContext) {
    safeCall(listener, state.meterContext);
    return noop;
  }
  state.meterListeners.add(listener);
  return () => state.meterListeners.delete(listener);
}

/** Called by register() once the provider exists. */
export function publishMeter(ctx: MeterContext): void {
  const state = otelkitState();
  state.meterContext = ctx;
  const listeners = [...state.meterListeners];
  state.meterListeners.clear();
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
    otelkitState().diagError('an instrumentation failed to create its instruments', err);
  }
}

function noop(): void {}
