/**
 * What the main thread and the OTLP export thread (otlp-worker.ts) say to each
 * other, and how metrics cross: structured clone keeps every field of the SDK's
 * metric data but the Resource's methods, so the resource travels as its
 * attributes and is rebuilt on the other side.
 */
import type { Attributes } from '@opentelemetry/api';
import type { ResourceMetrics, ScopeMetrics } from '@opentelemetry/sdk-metrics';

export interface TransferredMetrics {
  resource: { attributes: Attributes; schemaUrl?: string };
  scopeMetrics: ScopeMetrics[];
}

export type ExportRequest =
  | { id: number; op: 'export'; metrics: TransferredMetrics; done?: Int32Array; timeoutMs?: number }
  | { id: number; op: 'shutdown'; done?: Int32Array };

export interface ExportReply {
  id: number;
  ok: boolean;
  error?: { message: string; code?: number | string };
}

/**
 * The resource's settled attributes. Host and process detectors settle
 * asynchronously; at the process 'exit' event nothing can be awaited, so the
 * ones still pending are left out there (the SDK leaves them out the same way).
 */
export function transferable(metrics: ResourceMetrics): TransferredMetrics {
  const { resource } = metrics;
  let attributes: Attributes;
  if (!resource.asyncAttributesPending) attributes = resource.attributes;
  else {
    attributes = {};
    for (const [key, value] of resource.getRawAttributes()) {
      const settled = !(value && typeof (value as { then?: unknown }).then === 'function');
      if (settled && !(key in attributes)) attributes[key] = value as Attributes[string];
    }
  }
  return {
    resource: { attributes, ...(resource.schemaUrl ? { schemaUrl: resource.schemaUrl } : {}) },
    scopeMetrics: metrics.scopeMetrics,
  };
}
