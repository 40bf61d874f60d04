/**
 * Recording rules for the expressions dashboards and alerts would otherwise compute
 * over every raw series at every evaluation: per-route request, error and latency
 * rates of the HTTP server, per-dependency ones of the HTTP client, and the cache
 * and limiter ratios the alerts compare, the queue failure ratio, wait p99 and
 * backlog the queue alerts compare, and the WebSocket failed-close ratio and the
 * session store error rate. Names follow Prometheus' level:metric:operations.
 */
import { LABEL, PROM } from '../prometheus-names.js';
import { SERVER_ERROR, eq, quantile, rate, ratioOrZero, re, sel, sumBy } from '../promql.js';
import { jobsByState } from '../queue-queries.js';
import type { RecordingRule, RuleGroup } from './types.js';

const route = ['job', LABEL.route];
const queue = ['job', LABEL.queueSystem, LABEL.queueName];
const dependency = ['job', LABEL.serverAddress, LABEL.serverPort];
const server = PROM.httpServer.requestDuration;
const client = PROM.httpClient.requestDuration;

/** Record names, for the alerts and the tests. */
export const RECORD = Object.freeze({
  routeRequests: 'job_route:http_server_requests:rate5m',
  routeErrors: 'job_route:http_server_errors:rate5m',
  routeErrorRatio: 'job_route:http_server_error_ratio:rate5m',
  routeBuckets: 'job_route_le:http_server_request_duration_seconds_bucket:rate5m',
  routeLatency: 'job_route:http_server_request_duration_seconds:quantile_rate5m',
  dependencyRequests: 'job_dependency:http_client_requests:rate5m',
  dependencyErrors: 'job_dependency:http_client_errors:rate5m',
  dependencyBuckets: 'job_dependency_le:http_client_request_duration_seconds_bucket:rate5m',
  dependencyLatency: 'job_dependency:http_client_request_duration_seconds:quantile_rate5m',
  cacheHitRatio: 'job_cache:cache_hit_ratio:rate5m',
  cacheHitRatio1d: 'job_cache:cache_hit_ratio:rate1d',
  limiterRejectionRatio: 'job_limiter:rate_limiter_rejection_ratio:rate5m',
  queueAttempts: 'job_queue:queue_job_attempts:rate5m',
  queueFailures: 'job_queue:queue_job_failures:rate5m',
  queueFailureRatio: 'job_queue:queue_job_failure_ratio:rate5m',
  queueWaitBuckets: 'job_queue_le:queue_job_wait_duration_seconds_bucket:rate5m',
  queueWait: 'job_queue:queue_job_wait_duration_seconds:quantile_rate5m',
  queueBacklog: 'job_queue:queue_jobs_waiting:current',
  websocketFailedCloseRatio: 'job_websocket:websocket_server_failed_close_ratio:rate5m',
  sessionStoreErrors: 'job_session:session_store_errors:rate5m',
});

/** Closes that were not clean: no close frame (abnormal) or an error code or socket error. */
export const FAILED_CLOSE = re(LABEL.wsCloseClass, 'abnormal|error');

const quantiles = (record: string, buckets: string, qs: number[]): RecordingRule[] =>
  qs.map((q) => ({ record, expr: quantile(q, buckets), labels: { quantile: String(q) } }));

function cacheHitRatio(window: string): string {
  const gets = (...m: string[]) => sumBy(['job', LABEL.cacheName], rate(sel(PROM.cache.gets, ...m), window));
  return `${gets(eq(LABEL.cacheResult, 'hit'))} / ${gets()}`;
}

function closes(...m: string[]): string {
  return sumBy(['job', LABEL.wsServer], rate(sel(PROM.websocket.connectionsClosed, ...m), '5m'));
}

export function recordingRules(): RuleGroup {
  const limiter = (...m: string[]) =>
    sumBy(['job', LABEL.limiterName], rate(sel(PROM.rateLimiter.acquisitions, ...m), '5m'));
  return {
    name: 'otelkit-recording',
    rules: [
      { record: RECORD.routeRequests, expr: sumBy(route, rate(`${server}_count`, '5m')) },
      { record: RECORD.routeErrors, expr: sumBy(route, rate(sel(`${server}_count`, SERVER_ERROR), '5m')) },
      { record: RECORD.routeErrorRatio, expr: ratioOrZero(RECORD.routeErrors, RECORD.routeRequests) },
      { record: RECORD.routeBuckets, expr: sumBy([...route, 'le'], rate(`${server}_bucket`, '5m')) },
      ...quantiles(RECORD.routeLatency, RECORD.routeBuckets, [0.5, 0.95, 0.99]),
      { record: RECORD.dependencyRequests, expr: sumBy(dependency, rate(`${client}_count`, '5m')) },
      {
        record: RECORD.dependencyErrors,
        expr: sumBy(dependency, rate(sel(`${client}_count`, `${LABEL.errorType}!=""`), '5m')),
      },
      { record: RECORD.dependencyBuckets, expr: sumBy([...dependency, 'le'], rate(`${client}_bucket`, '5m')) },
      ...quantiles(RECORD.dependencyLatency, RECORD.dependencyBuckets, [0.5, 0.99]),
      { record: RECORD.cacheHitRatio, expr: cacheHitRatio('5m') },
      { record: RECORD.cacheHitRatio1d, expr: cacheHitRatio('1d') },
      {
        record: RECORD.limiterRejectionRatio,
        expr: `${limiter(eq(LABEL.limiterResult, 'rejected'))} / ${limiter()}`,
      },
      ...queueRules(),
      {
        record: RECORD.websocketFailedCloseRatio,
        expr: ratioOrZero(closes(FAILED_CLOSE), closes()),
      },
      {
        record: RECORD.sessionStoreErrors,
        expr: sumBy(['job', LABEL.sessionSource], rate(PROM.session.storeErrors, '5m')),
      },
    ],
  };
}

function queueRules(): RecordingRule[] {
  const attempts = (...m: string[]) => sumBy(queue, rate(sel(PROM.queue.attempts, ...m), '5m'));
  const wait = `${PROM.queue.waitDuration}_bucket`;
  return [
    { record: RECORD.queueAttempts, expr: attempts() },
    { record: RECORD.queueFailures, expr: attempts(re(LABEL.jobOutcome, 'failed|retried')) },
    { record: RECORD.queueFailureRatio, expr: ratioOrZero(RECORD.queueFailures, RECORD.queueAttempts) },
    { record: RECORD.queueWaitBuckets, expr: sumBy([...queue, 'le'], rate(wait, '5m')) },
    ...quantiles(RECORD.queueWait, RECORD.queueWaitBuckets, [0.5, 0.99]),
    // Waiting and prioritized (BullMQ's waiting jobs with a priority): the jobs no worker has taken yet.
    {
      record: RECORD.queueBacklog,
      expr: sumBy(queue, `(${jobsByState(['job', LABEL.jobState], sel, re(LABEL.jobState, 'waiting|prioritized'))})`),
    },
  ];
}
