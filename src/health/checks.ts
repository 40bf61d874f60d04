/**
 * Readiness checks added with addHealthCheck(), run concurrently, each within its own
 * timeout. A check passes when it resolves to anything but `false`; it fails when it
 * returns false, throws, rejects or outlives its timeout. Concurrent readiness
 * requests share one run.
 */
import { configWarning } from '../log.js';
import { processSingleton } from '../process-singleton.js';
import { clock } from '../util/clock.js';
import { firstLine } from '../util/errors.js';

export type HealthCheckFn = () => unknown;

export interface HealthCheckOptions {
  /** Milliseconds the check may take; default 5000. */
  timeout?: number;
  /** A failing critical check makes readiness answer 503; default true. */
  critical?: boolean;
}

export interface CheckResult {
  status: 'pass' | 'fail';
  critical: boolean;
  durationMs: number;
  /** Why it failed: the error's first line, `timed out after N ms` or `returned false`. */
  error?: string;
}

export interface Readiness {
  /** `fail` when a critical check failed. */
  status: 'pass' | 'fail';
  checks: Record<string, CheckResult>;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 5_000;

interface Entry {
  fn: HealthCheckFn;
  timeout: number;
  critical: boolean;
}

interface Registry {
  checks: Map<string, Entry>;
  running?: Promise<Readiness>;
}

function registry(): Registry {
  return processSingleton<Registry>('otelkit.healthChecks', () => ({ checks: new Map() }));
}

/**
 * Adds (or replaces) the readiness check `name`. Returns a function that removes it.
 * Misuse is reported once on stderr and adds nothing.
 */
export function addHealthCheck(name: string, fn: HealthCheckFn, options: HealthCheckOptions = {}): () => void {
  const timeout = options.timeout ?? DEFAULT_CHECK_TIMEOUT_MS;
  if (typeof name !== 'string' || name === '' || typeof fn !== 'function') {
    configWarning('addHealthCheck(name, fn): name must be a non-empty string and fn a function; the check is ignored');
    return () => {};
  }
  if (!(Number.isFinite(timeout) && timeout > 0)) {
    configWarning(`addHealthCheck("${name}"): timeout must be a number of milliseconds above 0; the check is ignored`);
    return () => {};
  }
  const entry: Entry = { fn, timeout, critical: options.critical ?? true };
  const { checks } = registry();
  checks.set(name, entry);
  return () => {
    if (checks.get(name) === entry) checks.delete(name);
  };
}

/** Runs every check; joins a run already in progress. Never rejects. */
export function runHealthChecks(): Promise<Readiness> {
  const reg = registry();
  if (reg.running) return reg.running;
  const run = (async (): Promise<Readiness> => {
    const entries = [...reg.checks];
    const results = await Promise.all(entries.map(([, entry]) => runOne(entry)));
    const checks: Record<string, CheckResult> = {};
    let status: Readiness['status'] = 'pass';
    entries.forEach(([name], i) => {
      checks[name] = results[i]!;
      if (results[i]!.status === 'fail' && results[i]!.critical) status = 'fail';
    });
    return { status, checks };
  })();
  reg.running = run;
  void run.finally(() => {
    if (reg.running === run) reg.running = undefined;
  });
  return run;
}

function runOne(entry: Entry): Promise<CheckResult> {
  const started = clock();
  const done = (error?: string): CheckResult => {
    const result: CheckResult = {
      status: error === undefined ? 'pass' : 'fail',
      critical: entry.critical,
      durationMs: Math.round((clock() - started) * 10) / 10,
    };
    if (error !== undefined) result.error = error;
    return result;
  };
  return new Promise<CheckResult>((resolve) => {
    const timer = setTimeout(() => resolve(done(`timed out after ${entry.timeout} ms`)), entry.timeout);
    timer.unref();
    const settle = (result: CheckResult) => {
      clearTimeout(timer);
      resolve(result);
    };
    try {
      Promise.resolve(entry.fn()).then(
        (value) => settle(done(value === false ? 'returned false' : undefined)),
        (err: unknown) => settle(done(firstLine(err))),
      );
    } catch (err) {
      settle(done(firstLine(err)));
    }
  });
}
