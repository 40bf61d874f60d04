/**
 * Prometheus names carry their unit (`http_server_request_duration_seconds`); OTel
 * names do not, and exporter-prometheus 0.301 does not add it. This renames metric
 * descriptors before serialization, following the OpenTelemetry spec's
 * "Prometheus and OpenMetrics compatibility" unit mapping.
 */
import { DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';

const UNIT_WORDS: Record<string, string> = {
  d: 'days', h: 'hours', min: 'minutes', s: 'seconds', ms: 'milliseconds', us: 'microseconds', ns: 'nanoseconds',
  By: 'bytes', KiBy: 'kibibytes', MiBy: 'mebibytes', GiBy: 'gibibytes', TiBy: 'tebibytes',
  KBy: 'kilobytes', MBy: 'megabytes', GBy: 'gigabytes', TBy: 'terabytes',
  m: 'meters', V: 'volts', A: 'amperes', J: 'joules', W: 'watts', g: 'grams', Cel: 'celsius', Hz: 'hertz', '%': 'percent',
};

const PER_WORDS: Record<string, string> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year' };

function word(unit: string, table: Record<string, string>): string {
  return table[unit] ?? unit.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** The suffix for a unit (without leading underscore), or '' for none. */
export function unitSuffix(unit: string, isGauge: boolean): string {
  const stripped = unit.replace(/\{[^}]*\}/g, '').trim();
  if (stripped === '') return '';
  if (stripped === '1') return isGauge ? 'ratio' : '';
  const [num, per] = stripped.split('/', 2);
  const head = num ? word(num, UNIT_WORDS) : '';
  const tail = per ? word(per, PER_WORDS) : '';
  return [head, tail && `per_${tail}`].filter(Boolean).join('_').replace(/_+/g, '_').replace(/^_|_$/g, '');
}

function isGauge(metric: MetricData): boolean {
  return metric.dataPointType === DataPointType.GAUGE || (metric.dataPointType === DataPointType.SUM && !metric.isMonotonic);
}

function renamed(metric: MetricData): MetricData {
  const suffix = unitSuffix(metric.descriptor.unit, isGauge(metric));
  const base = metric.descriptor.name.replace(/[^a-zA-Z0-9_:]/g, '_');
  if (!suffix || base.endsWith(`_${suffix}`) || base.endsWith(`_${suffix}_total`)) return metric;
  return { ...metric, descriptor: { ...metric.descriptor, name: `${metric.descriptor.name}_${suffix}` } } as MetricData;
}

export function withUnitSuffixes(resourceMetrics: ResourceMetrics): ResourceMetrics {
  return {
    resource: resourceMetrics.resource,
    scopeMetrics: resourceMetrics.scopeMetrics.map((scope) => ({ scope: scope.scope, metrics: scope.metrics.map(renamed) })),
  };
}
