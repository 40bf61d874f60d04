/**
 * Process-wide otelkit state, shared by the ESM and CJS builds (both may load in
 * one app), so they share one provider and one port.
 */
import { sdkDisabled } from './config/parsers.js';
import type { OtelkitHandle } from './handle.js';
import { processSingleton } from './process-singleton.js';

export interface OtelkitState {
  handle?: OtelkitHandle;
  /** Set once that handle's shutdown() ran: otelkit starts once per process. */
  stopped?: boolean;
  disabled: boolean;
  warnedOnce: Set<string>;
  /** Servers otelkit itself runs (the scrape endpoint): never counted in HTTP metrics. */
  ownServers: WeakSet<object>;
}

export function otelkitState(): OtelkitState {
  return processSingleton<OtelkitState>('otelkit.state', () => ({
    disabled: sdkDisabled(process.env),
    warnedOnce: new Set(),
    ownServers: new WeakSet(),
  }));
}
