/**
 * The Prometheus label name an attribute key becomes: exporter-prometheus's own rule
 * (every character outside [a-zA-Z0-9_] becomes `_`, runs of `_` collapse to one), so
 * otelkit's checks agree with what the serializer writes.
 */
export function prometheusLabelName(key: string): string {
  return key.replace(/[^a-z0-9_]/gi, '_').replace(/_{2,}/g, '_');
}
