/**
 * otelkit's own traffic, which the HTTP server instrumentation never counts: the
 * servers otelkit runs (the standalone scrape endpoint), and the requests its scrape
 * handler answers on the app's own server.
 */
import type { IncomingMessage } from 'node:http';
import { processSingleton } from './process-singleton.js';
import { otelkitState } from './state.js';

/**
 * Whether any request in the process was ever marked: not counted (here), or given a
 * route (the HTTP instrumentation's setHttpRoute and framework hooks). Until then the
 * per-request reads of those marks are skipped: a symbol-keyed read costs a call into
 * V8's generic keyed-load stub per request, a flag read does not. Process-wide, so the
 * ESM and CJS builds see each other's marks.
 */
export const requestMarks = processSingleton('otelkit.http.marks', () => ({ used: false }));

const kNotCounted = Symbol.for('otelkit.http.notCounted');

/**
 * Marks a server request as never counted (otelkit's own scrape handler mounted on
 * the app). A property on the few marked requests rather than a WeakSet lookup on
 * every request: reading an absent property is the cheaper miss.
 */
export function markNotCounted(req: IncomingMessage): void {
  requestMarks.used = true;
  (req as unknown as Record<symbol, boolean>)[kNotCounted] = true;
}

export function isNotCounted(req: IncomingMessage): boolean {
  return requestMarks.used && (req as unknown as Record<symbol, unknown>)[kNotCounted] === true;
}

/** A server otelkit itself runs: none of its requests are counted. */
export function markOwnServer(server: object): void {
  otelkitState().ownServers.add(server);
}
