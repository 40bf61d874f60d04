/**
 * The core's one door to instrumentations/ (no other file in src/ imports from there):
 * the instrumentations named in config.instrumentations, started at register(). It
 * imports only what register() starts, so the preload does not load the other families'
 * code (the package entry, index.ts at the root, exports their public API):
 *     http-server   HTTP server metrics (diagnostics_channel; see instrumentations/http-server.ts)
 *     http-client   HTTP client metrics for node:http(s) and fetch
 *     runtime       all runtime groups; or any of runtime-eventloop, runtime-gc,
 *                   runtime-heap, runtime-process on their own
 *   plus, with http.mode = 'instrumentation-http', @opentelemetry/instrumentation-http
 *   for spans. One handle disposes them all.
 */
import type { OtelkitConfig } from './config/types.js';
import type { Instrumentation } from './instrumentation.js';
import { tryOrLog } from './util/errors.js';
import { instrumentHttpServer } from '../instrumentations/http-server.js';
import { instrumentHttpClient } from '../instrumentations/http-client.js';
import { instrumentHttpSpans } from '../instrumentations/http-spans.js';
import { RUNTIME_GROUPS, instrumentRuntime, type RuntimeGroup } from '../instrumentations/runtime.js';

/** The runtime groups a list of instrumentation names asks for. */
export function runtimeGroups(names: readonly string[]): RuntimeGroup[] {
  if (names.includes('runtime')) return [...RUNTIME_GROUPS];
  return RUNTIME_GROUPS.filter((g) => names.includes(`runtime-${g}`));
}

export function startDefaultInstrumentations(config: OtelkitConfig): Instrumentation {
  const names: readonly string[] = config.instrumentations;
  const started: Instrumentation[] = [];
  const start = (what: string, fn: () => Instrumentation) =>
    tryOrLog(`starting the ${what} instrumentation failed`, () => started.push(fn()));
  if (names.includes('http-server')) start('http-server', () => instrumentHttpServer());
  if (names.includes('http-client')) start('http-client', () => instrumentHttpClient());
  if (config.http.mode === 'instrumentation-http' && (names.includes('http-server') || names.includes('http-client'))) {
    start('instrumentation-http', () => instrumentHttpSpans());
  }
  const groups = runtimeGroups(names);
  if (groups.length > 0) start('runtime', () => instrumentRuntime({ groups, names: config.runtime.names }));
  return {
    dispose() {
      for (const i of started.splice(0)) tryOrLog('stopping an instrumentation failed', () => i.dispose());
    },
  };
}
