/**
 * Prometheus names carry their unit (`http_server_request_duration_seconds`); OTel
 * names do not, and exporter-prometheus 0.301 does not add it. This renames metric
 * descriptors before serialization, following the OpenTelemetry spec's
 * "Prometheus and OpenMetrics compatibility" unit mapping.
 */
import { diag } from '@opentelemetry/api';
import { DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';

const UNIT_WORDS: Record<string, string> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tebibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '%': 'percent',
};

const PER_WORDS: Record<string, string> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};

function word(unit: string, table: Record<string, string>): string {
  return table[unit] ?? unit.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** The suffix for a unit (without leading underscore), or '' for none. */
export function unitSuffix(unit: string, isGauge: boolean): string {
  const stripped = unit.replace(/\{[^}]*\}/g, '').trim();
  if (stripped === '') return '';
  if (stripped === '1') return isGauge ? 'ratio' : '';
  // A unit with no ASCII spelling (µs, say) would sanitize into a wrong word: leave it out.
  if (!/^[A-Za-z0-9_%]*(\/[A-Za-z0-9_]+)?$/.test(stripped)) return '';
  const [num, per] = stripped.split('/', 2);
  const head = num && num !== '1' ? word(num, UNIT_WORDS) : '';
  const tail = per ? word(per, PER_WORDS) : '';
  return [head, tail && `per_${tail}`].filter(Boolean).join('_');
}

const sanitize = (name: string): string => name.replace(/[^a-zA-Z0-9_:]/g, '_').replace(/_+/g, '_');

const isMonotonicSum = (metric: MetricData): boolean =>
  metric.dataPointType === DataPointType.SUM && metric.isMonotonic;

/** The renamed metric name, or undefined when the name already says its unit. */
function suffixedName(metric: MetricData): string | undefined {
  const suffix = unitSuffix(metric.descriptor.unit, metric.dataPointType === DataPointType.GAUGE);
  if (!suffix) return undefined;
  let base = metric.descriptor.name;
  // `_total` stays last: requests_total with unit s becomes requests_seconds_total.
  if (isMonotonicSum(metric) && sanitize(base).endsWith('_total')) base = base.slice(0, -'_total'.length);
  if (sanitize(base).endsWith(`_${suffix}`)) return undefined;
  return `${base}_${suffix}`;
}

const warnedCollisions = new Set<string>();

export function withUnitSuffixes(resourceMetrics: ResourceMetrics): ResourceMetrics {
  const taken = new Set(
    resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics.map((m) => sanitize(m.descriptor.name))),
  );
  const rename = (metric: MetricData): MetricData => {
    const name = suffixedName(metric);
    if (name === undefined) return metric;
    if (taken.has(sanitize(name))) {
      // Renaming would merge two metrics into one family with duplicate series.
      if (!warnedCollisions.has(name)) {
        warnedCollisions.add(name);
        diag.warn(
          `otelkit: ${metric.descriptor.name} keeps its name in Prometheus: ${sanitize(name)} is another metric's name`,
        );
      }
      return metric;
    }
    return { ...metric, descriptor: { ...metric.descriptor, name } } as MetricData;
  };
  return {
    resource: resourceMetrics.resource,
    scopeMetrics: resourceMetrics.scopeMetrics.map((scope) => ({
      scope: scope.scope,
      metrics: scope.metrics.map(rename),
    })),
  };
}
