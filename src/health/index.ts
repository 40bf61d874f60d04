/**
 * The public side of health and stats: the mountable handlers, addHealthCheck() and
 * getStats(). They read the running otelkit's config (paths, token) when registered.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { markNotCounted } from '../own-traffic.js';
import { otelkitState } from '../state.js';
import type { Stats } from '../stats/compute.js';
import { statsHolder } from '../stats/stats-service.js';
import { serveEndpoint, type EndpointName } from './endpoints.js';

export { addHealthCheck } from './checks.js';
export type { CheckResult, HealthCheckFn, HealthCheckOptions, Readiness } from './checks.js';
export type { RouteStats, Stats, WindowFigures } from '../stats/compute.js';
export { addStatsContributor, type StatsContributor } from '../stats/contributors.js';

function handler(name: EndpointName) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    markNotCounted(req);
    serveEndpoint(name, otelkitState().handle?.config, req, res);
  };
}

/** Liveness, to mount on your own server: `app.get('/health/live', liveHandler)`. Always 200. */
export const liveHandler = handler('live');
/** Readiness: runs the checks added with addHealthCheck(); 503 when a critical one fails. */
export const readyHandler = handler('ready');
/** The JSON snapshot getStats() returns; 404 until otelkit is registered. */
export const statsHandler = handler('stats');

/** The /stats snapshot; undefined until register() ran (or when otelkit is disabled). */
export function getStats(): Stats | undefined {
  return statsHolder().service?.get();
}
