/**
 * Faster data-point lines for exporter-prometheus's PrometheusSerializer, with the same bytes.
 *
 * A scrape's time goes mostly into the serializer's per-point work: two regular expressions
 * per label name, three per label value, an `Object.entries` and a fresh object per point
 * and per bucket for the scope labels and `le`. These replacements render the same lines with
 * a cache of sanitized label names, a test before escaping, and the per-metric labels (scope)
 * rendered once per metric. Everything else (families, metadata, conflicts, target_info)
 * stays the serializer's. The serializer is bundled into otelkit at a pinned version, and
 * test/unit/prometheus-data-points.test.ts checks the bytes are the same on a corpus of every
 * instrument type, escaping case and unit suffix.
 */
import type { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics';

type Labels = Record<string, unknown>;
type PointWriter<V> = (name: string, data: unknown, point: DataPoint<V>, additional: Labels | undefined) => string;

/** The serializer's own per-point methods (private in its types), replaced on one instance. */
interface SerializerInternals {
  _appendTimestamp?: boolean;
  _serializeSingularDataPoint?: PointWriter<number>;
  _serializeHistogramDataPoint?: PointWriter<Histogram>;
}

/** Installs the faster per-point methods on `serializer`; leaves it as it is if its shape is not the known one. */
export function withFastDataPoints(serializer: PrometheusSerializer): PrometheusSerializer {
  const internals = serializer as unknown as SerializerInternals;
  const original = internals._serializeHistogramDataPoint;
  if (
    internals._appendTimestamp !== false ||
    typeof internals._serializeSingularDataPoint !== 'function' ||
    typeof original !== 'function'
  ) {
    return serializer;
  }
  const labels = new LabelWriter();
  internals._serializeSingularDataPoint = (name, _data, point, additional) =>
    `${name}${labels.braces(labels.of(point.attributes), labels.extra(additional))} ${valueString(point.value)}\n`;
  internals._serializeHistogramDataPoint = (name, data, point, additional) => {
    // The serializer adds `le` to a copy of the per-metric labels; one that is already there
    // would keep its place, so that rare case stays with the original.
    if (additional && Object.hasOwn(additional, 'le')) return original.call(serializer, name, data, point, additional);
    const own = labels.of(point.attributes);
    const extra = labels.extra(additional);
    const inner = labels.join(own, extra);
    const histogram = point.value;
    let out = '';
    if (histogram.count != null) out += `${name}_count${labels.braces(own, extra)} ${valueString(histogram.count)}\n`;
    if (histogram.sum != null) out += `${name}_sum${labels.braces(own, extra)} ${valueString(histogram.sum)}\n`;
    const prefix = `${name}_bucket{${inner}${inner ? ',' : ''}le="`;
    const { boundaries, counts } = histogram.buckets;
    let cumulative = 0;
    let infiniteBoundary = false;
    for (let i = 0; i < counts.length; i++) {
      cumulative += counts[i]!;
      const upper = boundaries[i];
      if (upper === undefined && infiniteBoundary) break;
      if (upper === Infinity) infiniteBoundary = true;
      const le = upper === undefined || upper === Infinity ? '+Inf' : String(upper);
      out += `${prefix}${escapeValue(le)}"} ${valueString(cumulative)}\n`;
    }
    return out;
  };
  return serializer;
}

const MAX_CACHED_NAMES = 1000;

class LabelWriter {
  private readonly names = new Map<string, string>();
  private lastExtra: Labels | undefined;
  private lastExtraText = '';

  /** `a="1",b="2"` for the point's own attributes, in their order. */
  of(attributes: Labels): string {
    let text = '';
    for (const key of Object.keys(attributes)) {
      text += `${text ? ',' : ''}${this.name(key)}="${escapeValue(attributes[key])}"`;
    }
    return text;
  }

  /** The same for the per-metric labels: the serializer passes one object for all of a metric's points. */
  extra(additional: Labels | undefined): string {
    if (additional === undefined) return '';
    if (additional !== this.lastExtra) {
      this.lastExtra = additional;
      this.lastExtraText = this.of(additional);
    }
    return this.lastExtraText;
  }

  join(own: string, extra: string): string {
    return own && extra ? `${own},${extra}` : own || extra;
  }

  braces(own: string, extra: string): string {
    const inner = this.join(own, extra);
    return inner ? `{${inner}}` : '';
  }

  private name(key: string): string {
    let name = this.names.get(key);
    if (name === undefined) {
      name = key.replace(/[^a-z0-9_]/gi, '_').replace(/_{2,}/g, '_');
      if (this.names.size < MAX_CACHED_NAMES) this.names.set(key, name);
    }
    return name;
  }
}

const NEEDS_ESCAPE = /[\\\n"]/;

/** The serializer's escapeAttributeValue: non-strings as JSON, then `\`, newline and `"` escaped. */
function escapeValue(value: unknown = ''): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function valueString(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return `${value}`;
}
