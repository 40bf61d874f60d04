/**
 * Caches (hit ratio, gets by result, evictions by reason, size against max), rate
 * limiters (acquisitions by result, wait p99, queue, permits) and circuit breakers
 * (state timeline, transitions, calls by outcome, call duration), by name.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { LABEL, PROM } from '../prometheus-names.js';
import { eq, increase, maxBy, quantile, rate, sumBy } from '../promql.js';
import {
  DASHBOARDS,
  RATE_WINDOW,
  finish,
  otelkitDashboard,
  q,
  row,
  scoped,
  stateTimeline,
  timeseries,
} from './panels.js';

const c = PROM.cache;
const l = PROM.rateLimiter;
const b = PROM.circuitBreaker;
const cache = [LABEL.cacheName];
const limiter = [LABEL.limiterName];
const breaker = [LABEL.breakerName];

const gets = (...m: string[]) => sumBy(cache, rate(scoped(c.gets, ...m), RATE_WINDOW));

export function resilience(): Dashboard {
  return finish(
    otelkitDashboard({
      ...DASHBOARDS.resilience,
      description: 'Caches, rate limiters and circuit breakers instrumented with otelkit, by name.',
    })
      .withRow(row('Caches'))
      .withPanel(
        timeseries({
          title: 'Hit ratio',
          description: 'hits / (hits + misses) over the rate window, per cache.',
          unit: 'percentunit',
          min: 0,
          max: 1,
          queries: [q(`${gets(eq(LABEL.cacheResult, 'hit'))} / ${gets()}`, '{{cache_name}}')],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Gets by result',
          description: 'Lookups per second, hits and misses, per cache.',
          unit: 'ops',
          queries: [
            q(
              sumBy([...cache, LABEL.cacheResult], rate(scoped(c.gets), RATE_WINDOW)),
              '{{cache_name}} {{cache_result}}',
            ),
          ],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Evictions by reason',
          description: 'Entries the cache removed itself per second (lru-cache with lruCacheDispose()), by reason.',
          unit: 'ops',
          queries: [
            q(
              sumBy([...cache, LABEL.evictionReason], rate(scoped(c.evictions), RATE_WINDOW)),
              '{{cache_name}} {{cache_eviction_reason}}',
            ),
          ],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Size and max',
          description: 'Entries in each cache, and its capacity where known: a cache at its max evicts.',
          unit: 'short',
          queries: [
            q(sumBy(cache, scoped(c.size)), 'size {{cache_name}}'),
            q(sumBy(cache, scoped(c.maxSize)), 'max {{cache_name}}'),
          ],
        }),
      )
      .withRow(row('Rate limiters'))
      .withPanel(
        timeseries({
          title: 'Acquisitions by result',
          description: 'Permit requests per second, acquired and rejected, per limiter.',
          unit: 'ops',
          queries: [
            q(
              sumBy([...limiter, LABEL.limiterResult], rate(scoped(l.acquisitions), RATE_WINDOW)),
              '{{rate_limiter_name}} {{rate_limiter_result}}',
            ),
          ],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Wait p99',
          description: 'Time calls waited for a permit (acquired calls): the latency the limiter adds.',
          unit: 's',
          queries: [
            q(
              quantile(0.99, sumBy([...limiter, 'le'], rate(scoped(`${l.waitDuration}_bucket`), RATE_WINDOW))),
              '{{rate_limiter_name}}',
            ),
          ],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Queue length',
          description: 'Calls waiting for a permit.',
          unit: 'short',
          queries: [q(sumBy(limiter, scoped(l.queueLength)), '{{rate_limiter_name}}')],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Permits available',
          description: 'Permits (tokens, points, reservoir) left, where the limiter exposes them.',
          unit: 'short',
          queries: [q(sumBy(limiter, scoped(l.permitsAvailable)), '{{rate_limiter_name}}')],
        }),
      )
      .withRow(row('Circuit breakers'))
      .withPanel(
        stateTimeline({
          title: 'State',
          description: 'State of each breaker over time (the worst instance).',
          unit: 'none',
          queries: [q(maxBy(breaker, scoped(b.state)), '{{circuit_breaker_name}}')],
          states: { 0: ['closed', 'green'], 0.5: ['half-open', 'yellow'], 1: ['open', 'red'] },
        }),
      )
      .withPanel(
        timeseries({
          title: 'Transitions',
          description: 'State changes within the rate window, by breaker and new state: many openings = flapping.',
          unit: 'short',
          span: 8,
          queries: [
            q(
              sumBy([...breaker, LABEL.breakerToState], increase(scoped(b.transitions), RATE_WINDOW)),
              '{{circuit_breaker_name}} to {{circuit_breaker_to_state}}',
            ),
          ],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Calls by outcome',
          description: 'Calls per second: success, failure, timeout, rejected (while open), fallback.',
          unit: 'ops',
          span: 8,
          stack: true,
          queries: [
            q(
              sumBy([...breaker, LABEL.breakerOutcome], rate(scoped(b.calls), RATE_WINDOW)),
              '{{circuit_breaker_name}} {{circuit_breaker_call_outcome}}',
            ),
          ],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Call duration p99',
          description: 'Duration of the calls the breaker let through.',
          unit: 's',
          span: 8,
          queries: [
            q(
              quantile(0.99, sumBy([...breaker, 'le'], rate(scoped(`${b.callDuration}_bucket`), RATE_WINDOW))),
              '{{circuit_breaker_name}}',
            ),
          ],
        }),
      ),
  );
}
