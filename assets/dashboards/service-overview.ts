/**
 * Service overview: the HTTP server per route (rate, 5xx ratio, latency
 * percentiles, in-flight requests, slowest routes) and the outgoing calls per
 * dependency (rate, errors, latency).
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { LABEL, PROM } from '../prometheus-names.js';
import { SERVER_ERROR, quantile, rate, ratioOrZero, sumBy } from '../promql.js';
import {
  DASHBOARDS,
  RATE_WINDOW,
  finish,
  otelkitDashboard,
  q,
  row,
  scoped,
  stat,
  table,
  timeseries,
} from './panels.js';

const server = PROM.httpServer.requestDuration;
const client = PROM.httpClient.requestDuration;
const route = [LABEL.route];
const dependency = [LABEL.serverAddress, LABEL.serverPort];

const requests = (by: string[], ...m: string[]) => sumBy(by, rate(scoped(`${server}_count`, ...m), RATE_WINDOW));
const serverQuantile = (p: number, window = RATE_WINDOW) =>
  quantile(p, sumBy([...route, 'le'], rate(scoped(`${server}_bucket`), window)));
const calls = (by: string[], ...m: string[]) => sumBy(by, rate(scoped(`${client}_count`, ...m), RATE_WINDOW));
const clientQuantile = (p: number) =>
  quantile(p, sumBy([...dependency, 'le'], rate(scoped(`${client}_bucket`), RATE_WINDOW)));
const DEPENDENCY = '{{server_address}}:{{server_port}}';

export function serviceOverview(): Dashboard {
  return finish(
    otelkitDashboard({
      ...DASHBOARDS.service,
      description: 'HTTP server per route and outgoing calls per dependency, from otelkit metrics.',
    })
      .withPanel(
        stat({
          title: 'Requests',
          description: 'Requests per second, all routes.',
          unit: 'reqps',
          queries: [q(requests([]), 'requests')],
        }),
      )
      .withPanel(
        stat({
          title: '5xx ratio',
          description: 'Share of requests answered 5xx, all routes.',
          unit: 'percentunit',
          queries: [q(ratioOrZero(requests([], SERVER_ERROR), requests([])), '5xx')],
        }),
      )
      .withPanel(
        stat({
          title: 'p99 latency',
          description: '99th percentile of the request duration, all routes.',
          unit: 's',
          queries: [q(quantile(0.99, sumBy(['le'], rate(scoped(`${server}_bucket`), RATE_WINDOW))), 'p99')],
        }),
      )
      .withPanel(
        stat({
          title: 'In flight',
          description: 'Requests being served now.',
          unit: 'short',
          queries: [q(sumBy([], scoped(PROM.httpServer.activeRequests)), 'in flight')],
        }),
      )
      .withRow(row('HTTP server, per route'))
      .withPanel(
        timeseries({
          title: 'Request rate',
          description: 'Requests per second by route (requests without a route template have none).',
          unit: 'reqps',
          queries: [q(requests(route), '{{http_route}}')],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Error ratio (5xx)',
          description: 'Share of the requests of each route answered 5xx.',
          unit: 'percentunit',
          min: 0,
          queries: [q(ratioOrZero(requests(route, SERVER_ERROR), requests(route)), '{{http_route}}')],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Latency p50 / p95 / p99',
          description: 'Request duration percentiles by route, from the histogram buckets.',
          unit: 's',
          span: 24,
          queries: [
            q(serverQuantile(0.5), 'p50 {{http_route}}'),
            q(serverQuantile(0.95), 'p95 {{http_route}}'),
            q(serverQuantile(0.99), 'p99 {{http_route}}'),
          ],
        }),
      )
      .withPanel(
        timeseries({
          title: 'In-flight requests',
          description: 'Requests being served, by method: saturation, or requests that hang.',
          unit: 'short',
          queries: [q(sumBy([LABEL.method], scoped(PROM.httpServer.activeRequests)), '{{http_request_method}}')],
        }),
      )
      .withPanel(
        table({
          title: 'Slowest routes (p99 over the time range)',
          description: 'The ten routes with the highest 99th percentile latency over the selected time range.',
          unit: 's',
          queries: [q(`topk(10, ${serverQuantile(0.99, '$__range')})`, '{{http_route}}')],
        }),
      )
      .withRow(row('Outgoing calls, per dependency'))
      .withPanel(
        timeseries({
          title: 'Call rate',
          description: 'Outgoing HTTP calls per second (node:http, fetch) by destination.',
          unit: 'reqps',
          span: 8,
          queries: [q(calls(dependency), DEPENDENCY)],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Call errors',
          description: 'Calls answered 4xx/5xx or that got no answer, by destination and error type.',
          unit: 'reqps',
          span: 8,
          queries: [
            q(calls([...dependency, LABEL.errorType], `${LABEL.errorType}!=""`), `${DEPENDENCY} {{error_type}}`),
          ],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Call latency p50 / p99',
          description: 'Duration until the response headers arrive, by destination.',
          unit: 's',
          span: 8,
          queries: [q(clientQuantile(0.5), `p50 ${DEPENDENCY}`), q(clientQuantile(0.99), `p99 ${DEPENDENCY}`)],
        }),
      ),
  );
}
