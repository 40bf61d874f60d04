/**
 * Where instrumentation families put their figures into the /stats snapshot, without
 * the core knowing them: each family registers a section (`caches`, `limiters`,
 * `breakers`, `queues`, `websockets`, `sessions`, ...) and a function returning one
 * entry per live target, read only when a snapshot is computed. Dependencies point
 * one way: src/ defines the registry, instrumentations/ register into it.
 * Process-wide, so the ESM and CJS builds of otelkit share it.
 */
import { diag } from '@opentelemetry/api';
import { processSingleton } from '../process-singleton.js';

/** One entry per live target: plain JSON values, each figure labelled with its window. */
export type StatsContributor = () => Iterable<Record<string, unknown>>;

function registry(): Map<string, Set<StatsContributor>> {
  return processSingleton('otelkit.statsContributors', () => new Map<string, Set<StatsContributor>>());
}

/** Adds `contribute` to `section`; returns the function that removes it. */
export function addStatsContributor(section: string, contribute: StatsContributor): () => void {
  const sections = registry();
  let set = sections.get(section);
  if (!set) sections.set(section, (set = new Set()));
  set.add(contribute);
  return () => set.delete(contribute);
}

/** Every section's entries; a contributor that throws is left out (logged at debug). */
export function readContributions(): Record<string, Record<string, unknown>[]> {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const [section, contributors] of registry()) {
    const entries: Record<string, unknown>[] = [];
    for (const contribute of contributors) {
      try {
        for (const entry of contribute()) entries.push(entry);
      } catch (err) {
        diag.debug(`otelkit: a /stats contributor of "${section}" failed`, err);
      }
    }
    out[section] = entries;
  }
  return out;
}
