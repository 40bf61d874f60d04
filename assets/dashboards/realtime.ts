/**
 * WebSocket servers (open connections, opens and closes by class, messages and
 * bytes by direction, connection duration, errors) and sessions (active, starts
 * and ends by reason, refreshes by reason, session age, store errors), by name.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { LABEL, PROM } from '../prometheus-names.js';
import { quantile, rate, sumBy } from '../promql.js';
import { DASHBOARDS, RATE_WINDOW, finish, otelkitDashboard, q, row, scoped, timeseries } from './panels.js';

const w = PROM.websocket;
const s = PROM.session;
const server = [LABEL.wsServer];
const source = [LABEL.sessionSource];

const perSecond = (labels: string[], metric: string) => sumBy(labels, rate(scoped(metric), RATE_WINDOW));
const p = (quantileValue: number, labels: string[], histogram: string) =>
  quantile(quantileValue, sumBy([...labels, 'le'], rate(scoped(`${histogram}_bucket`), RATE_WINDOW)));

export function realtime(): Dashboard {
  return finish(
    otelkitDashboard({
      ...DASHBOARDS.realtime,
      description: 'WebSocket servers and sessions instrumented with otelkit, by name.',
    })
      .withRow(row('WebSockets'))
      .withPanel(
        timeseries({
          title: 'Open connections',
          description: 'Connections open now, per server.',
          unit: 'short',
          span: 8,
          queries: [q(sumBy(server, scoped(w.activeConnections)), '{{websocket_server_name}}')],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Connections opened and closed',
          description:
            'Per second: connections accepted, and closes by class (normal, going_away, error, abnormal: ' +
            'no close frame). Many abnormal closes: clients losing the network or a proxy cutting idle connections.',
          unit: 'ops',
          span: 8,
          queries: [
            q(perSecond(server, w.connectionsOpened), 'opened {{websocket_server_name}}'),
            q(
              perSecond([...server, LABEL.wsCloseClass], w.connectionsClosed),
              'closed {{websocket_server_name}} {{websocket_close_class}}',
            ),
          ],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Connection duration',
          description: 'How long connections stayed open (those that closed in the window): median and p99.',
          unit: 's',
          span: 8,
          queries: [
            q(p(0.5, server, w.connectionDuration), 'p50 {{websocket_server_name}}'),
            q(p(0.99, server, w.connectionDuration), 'p99 {{websocket_server_name}}'),
          ],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Messages by direction',
          description: 'Messages per second received and sent (socket.io: packets).',
          unit: 'ops',
          span: 8,
          queries: [
            q(
              perSecond([...server, LABEL.wsDirection], w.messages),
              '{{websocket_server_name}} {{websocket_message_direction}}',
            ),
          ],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Bytes by direction',
          description: 'Message payload bytes per second received and sent.',
          unit: 'Bps',
          span: 8,
          queries: [
            q(
              perSecond([...server, LABEL.wsDirection], w.io),
              '{{websocket_server_name}} {{websocket_message_direction}}',
            ),
          ],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Errors',
          description: 'Socket errors per second: protocol violations, oversized messages.',
          unit: 'ops',
          span: 8,
          queries: [q(perSecond(server, w.errors), '{{websocket_server_name}}')],
        }),
      )
      .withRow(row('Sessions'))
      .withPanel(
        timeseries({
          title: 'Active sessions',
          description: 'Sessions active now, per source (stores: where they can count them).',
          unit: 'short',
          span: 8,
          queries: [q(sumBy(source, scoped(s.active)), '{{session_source_name}}')],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Started and ended',
          description: 'Sessions started, and ended by reason, per second.',
          unit: 'ops',
          span: 8,
          queries: [
            q(perSecond(source, s.starts), 'started {{session_source_name}}'),
            q(
              perSecond([...source, LABEL.sessionEndReason], s.ends),
              'ended {{session_source_name}} {{session_end_reason}}',
            ),
          ],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Refreshes by reason',
          description: 'Session refreshes per second (stores: touch, save), by reason.',
          unit: 'ops',
          span: 8,
          queries: [
            q(
              perSecond([...source, LABEL.sessionRefreshReason], s.refreshes),
              '{{session_source_name}} {{session_refresh_reason}}',
            ),
          ],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Session age at end',
          description: 'How old sessions were when they ended (trackers given an id): median and p99.',
          unit: 's',
          span: 12,
          queries: [
            q(p(0.5, source, s.duration), 'p50 {{session_source_name}}'),
            q(p(0.99, source, s.duration), 'p99 {{session_source_name}}'),
          ],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Store errors',
          description: 'Failed session store calls per second, by operation: users lose or cannot keep sessions.',
          unit: 'ops',
          span: 12,
          queries: [
            q(
              perSecond([...source, LABEL.sessionOperation], s.storeErrors),
              '{{session_source_name}} {{session_store_operation}}',
            ),
          ],
        }),
      ),
  );
}
