/**
 * What the dashboards share, built with Grafana's typed builders: the
 * dashboard frame (data source, service_name, job and instance variables, links
 * between the dashboards) and one function per panel kind, each requiring a unit.
 * Build-time only: the JSON ships, the CLI copies it.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  MappingType,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { sel } from '../promql.js';

// A Grafana variable reference, not a JavaScript template.
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${datasource} syntax
export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

/** The matchers every panel query carries: the job and instance variables. */
export const SCOPE = ['job=~"$job"', 'instance=~"$instance"'];
/** `metric{job=~"$job", instance=~"$instance", …}`. */
export const scoped = (metric: string, ...matchers: string[]): string => sel(metric, ...SCOPE, ...matchers);
/** Grafana's window for rate(): at least four scrape intervals. */
export const RATE_WINDOW = '$__rate_interval';

/** One query of a panel: PromQL and its legend (`{{label}}` templates). */
export interface Query {
  expr: string;
  legend: string;
}
export const q = (expr: string, legend: string): Query => ({ expr, legend });

interface PanelOptions {
  title: string;
  description: string;
  /** Grafana unit id: `s`, `bytes`, `percentunit`, `reqps`, `ops`, `short`, `none`… */
  unit: string;
  queries: Query[];
  /** Width in grid columns (of 24). */
  span?: number;
  height?: number;
}

function targets(queries: Query[], instant = false): DataqueryBuilder[] {
  return queries.map((query, i) => {
    const target = new DataqueryBuilder()
      .datasource(DATASOURCE)
      .refId(String.fromCharCode(65 + i))
      .expr(query.expr)
      .legendFormat(query.legend);
    return instant ? target.instant().format(PromQueryFormat.Table) : target.range();
  });
}

export function timeseries(o: PanelOptions & { min?: number; max?: number; stack?: boolean }): TimeseriesPanel {
  const panel = new TimeseriesPanel()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .unit(o.unit)
    .span(o.span ?? 12)
    .height(o.height ?? 8)
    .targets(targets(o.queries))
    .fillOpacity(10)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending),
    );
  if (o.min !== undefined) panel.min(o.min);
  if (o.max !== undefined) panel.max(o.max);
  if (o.stack) panel.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  return panel;
}

export function stat(o: PanelOptions): StatPanel {
  return new StatPanel()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .unit(o.unit)
    .span(o.span ?? 6)
    .height(o.height ?? 4)
    .targets(targets(o.queries))
    .graphMode(common.BigValueGraphMode.Area)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']));
}

/** A table of one instant query, e.g. a top-k. */
export function table(o: PanelOptions): TablePanel {
  return new TablePanel()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .unit(o.unit)
    .span(o.span ?? 12)
    .height(o.height ?? 8)
    .targets(targets(o.queries, true));
}

/** A state timeline whose values are mapped to named, coloured states. */
export function stateTimeline(o: PanelOptions & { states: Record<string, [string, string]> }): StateTimelinePanel {
  const mapping: ValueMapping = {
    type: MappingType.ValueToText,
    options: Object.fromEntries(
      Object.entries(o.states).map(([value, [text, color]], index) => [value, { text, color, index }]),
    ),
  };
  return new StateTimelinePanel()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .unit(o.unit)
    .span(o.span ?? 24)
    .height(o.height ?? 6)
    .targets(targets(o.queries))
    .mappings([mapping])
    .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([{ value: null, color: 'green' }]));
}

export const row = (title: string): RowBuilder => new RowBuilder(title);

export interface DashboardInfo {
  uid: string;
  title: string;
  description: string;
}

/** The dashboards link to each other (keeping time range and variables). */
export const DASHBOARDS = {
  service: { uid: 'otelkit-service', title: 'otelkit / Service overview' },
  runtime: { uid: 'otelkit-runtime', title: 'otelkit / Node runtime' },
  resilience: { uid: 'otelkit-resilience', title: 'otelkit / Caches, rate limiters, circuit breakers' },
  queues: { uid: 'otelkit-queues', title: 'otelkit / Job queues and tasks' },
  realtime: { uid: 'otelkit-realtime', title: 'otelkit / WebSockets and sessions' },
} as const;

function variable(name: string, label: string, query: string): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query({ query, refId: `${name}-values`, qryType: 1 })
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.+');
}

/**
 * service_name lists the services that expose `target_info` (otelkit's resource
 * attributes); job and instance narrow to its targets. Panels filter on job and
 * instance, which every series has.
 */
export const VARIABLE_QUERIES = {
  service_name: 'label_values(target_info, service_name)',
  job: 'label_values(target_info{service_name=~"$service_name"}, job)',
  instance: 'label_values(target_info{service_name=~"$service_name", job=~"$job"}, instance)',
} as const;

export function otelkitDashboard(info: DashboardInfo): DashboardBuilder {
  return new DashboardBuilder(info.title)
    .uid(info.uid)
    .description(info.description)
    .tags(['otelkit', 'nodejs', 'opentelemetry'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: 'now-1h', to: 'now' })
    .refresh('30s')
    .withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'))
    .withVariable(variable('service_name', 'Service', VARIABLE_QUERIES.service_name))
    .withVariable(variable('job', 'Job', VARIABLE_QUERIES.job))
    .withVariable(variable('instance', 'Instance', VARIABLE_QUERIES.instance))
    .link(
      new DashboardLinkBuilder('otelkit dashboards')
        .type(DashboardLinkType.Dashboards)
        .tags(['otelkit'])
        .asDropdown(true)
        .keepTime(true)
        .includeVars(true),
    );
}

/** Numbers every panel and row (Grafana would, on load; fixed ids keep links and the JSON stable). */
export function finish(builder: DashboardBuilder): Dashboard {
  const dashboard = builder.build();
  let id = 0;
  for (const panel of dashboard.panels ?? []) {
    panel.id = ++id;
    if ('panels' in panel) for (const inner of panel.panels) inner.id = ++id;
  }
  return dashboard;
}
