/**
 * Reads the `slos` setting. Used twice: at register(), where an invalid SLO is one
 * problem line and is left out (the app does nothing else with SLOs), and by
 * `npx otelkit assets`, where any problem is an error. A latency SLO counts the
 * requests in one histogram bucket, so its threshold must be a bucket boundary.
 */
import type { SloConfig } from './types.js';

/**
 * The histogram the SLOs read: instrumentations/metric-names.ts names it too
 * (HTTP_SERVER.requestDuration); src/ cannot import from there, a test checks they agree.
 */
export const SLO_HISTOGRAM = 'http.server.request.duration';

export interface ParsedSlos {
  slos: SloConfig[];
  problems: string[];
}

const NAME = /^[A-Za-z0-9_.-]+$/;
const isRatio = (v: unknown): v is number => typeof v === 'number' && v > 0 && v < 1;
const RATIO = 'a number between 0 and 1, exclusive, e.g. 0.999';

/** @param boundaries the bucket boundaries of SLO_HISTOGRAM in this configuration. */
export function parseSlos(raw: unknown, boundaries: readonly number[], label: string): ParsedSlos {
  const problems: string[] = [];
  if (raw === undefined) return { slos: [], problems };
  if (!Array.isArray(raw)) {
    problems.push(`${label}: slos is invalid: expected an array of { name, route, objective?, latency? }`);
    return { slos: [], problems };
  }
  const slos: SloConfig[] = [];
  const names = new Set<string>();
  for (const [index, entry] of raw.entries()) {
    const where = `${label}: slos[${index}]`;
    const found = checkSlo(entry, boundaries, where);
    if (typeof found === 'string') problems.push(`${found}; leaving this SLO out`);
    else if (names.has(found.name)) problems.push(`${where}.name="${found.name}" is used twice; leaving this SLO out`);
    else {
      names.add(found.name);
      slos.push(found);
    }
  }
  return { slos, problems };
}

/** The SLO, or one line saying what is wrong and what is accepted. */
function checkSlo(entry: unknown, boundaries: readonly number[], where: string): SloConfig | string {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
    return `${where} is invalid: expected { name, route, objective?, latency? }`;
  const { name, route, objective, latency, ...rest } = entry as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length)
    return `${where} has unknown keys ${unknown.join(', ')}: expected name, route, objective, latency`;
  if (typeof name !== 'string' || !NAME.test(name))
    return (
      `${where}.name=${JSON.stringify(name)} is invalid: ` +
      'expected letters, digits, _, - or ., e.g. checkout-availability'
    );
  const at = `${where} ("${name}")`;
  if (typeof route !== 'string' || route.trim() === '' || /["\\\n]/.test(route))
    return (
      `${at}.route=${JSON.stringify(route)} is invalid: ` +
      'expected the route template as http.route has it, e.g. /checkout'
    );
  if (objective !== undefined && !isRatio(objective))
    return `${at}.objective=${JSON.stringify(objective)} is invalid: expected ${RATIO}`;
  if (objective === undefined && latency === undefined)
    return `${at} sets neither objective (availability) nor latency: expected at least one`;
  const slo: SloConfig = { name, route };
  if (objective !== undefined) slo.objective = objective;
  if (latency !== undefined) {
    const l = latency as Record<string, unknown> | null;
    if (l === null || typeof l !== 'object' || Array.isArray(l))
      return (
        `${at}.latency is invalid: ` +
        'expected { threshold: seconds, objective: ratio }, e.g. { threshold: 0.25, objective: 0.99 }'
      );
    if (!isRatio(l.objective))
      return `${at}.latency.objective=${JSON.stringify(l.objective)} is invalid: expected ${RATIO}`;
    if (typeof l.threshold !== 'number' || !boundaries.includes(l.threshold))
      return (
        `${at}.latency.threshold=${JSON.stringify(l.threshold)} is not a bucket boundary of ${SLO_HISTOGRAM}; ` +
        `a latency SLO counts the requests of one bucket, so use one of ${boundaries.join(', ')} (seconds), ` +
        `or add it to histogramBuckets['${SLO_HISTOGRAM}']`
      );
    slo.latency = { threshold: l.threshold, objective: l.objective };
  }
  return slo;
}
