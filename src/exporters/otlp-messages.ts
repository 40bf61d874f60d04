/**
 * What the main thread and an OTLP export thread (otlp-worker.ts) say to each
 * other, and how metrics and log records cross: structured clone keeps every field
 * of the SDK's metric data but the Resource's methods, so the resource travels as
 * its attributes and is rebuilt on the other side. A log record travels as the
 * fields an exporter reads (the SDK's record is a class with accessors).
 */
import type { AnyValue, Attributes, HrTime } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ResourceMetrics, ScopeMetrics } from '@opentelemetry/sdk-metrics';

export interface TransferredResource {
  attributes: Attributes;
  schemaUrl?: string;
}

export interface TransferredMetrics {
  resource: TransferredResource;
  scopeMetrics: ScopeMetrics[];
}

/** A ReadableLogRecord without its resource (sent once per batch). */
export interface TransferredLog {
  hrTime: HrTime;
  hrTimeObserved: HrTime;
  severityNumber?: number;
  severityText?: string;
  body?: AnyValue;
  eventName?: string;
  attributes: Attributes;
  droppedAttributesCount: number;
  scope: { name: string; version?: string };
}

export interface TransferredLogs {
  resource: TransferredResource;
  records: TransferredLog[];
}

export type ExportRequest =
  | { id: number; op: 'export'; metrics: TransferredMetrics; done?: Int32Array; timeoutMs?: number }
  | { id: number; op: 'export-logs'; logs: TransferredLogs; done?: Int32Array; timeoutMs?: number }
  | { id: number; op: 'shutdown'; done?: Int32Array };

export interface ExportReply {
  id: number;
  ok: boolean;
  error?: { message: string; code?: number | string };
}

/** Metrics as they cross to the export thread. */
export function transferable(metrics: ResourceMetrics): TransferredMetrics {
  return { resource: transferableResource(metrics.resource), scopeMetrics: metrics.scopeMetrics };
}

/**
 * The resource's settled attributes. Host and process detectors settle
 * asynchronously; at the process 'exit' event nothing can be awaited, so the
 * ones still pending are left out there (the SDK leaves them out the same way).
 */
export function transferableResource(resource: Resource): TransferredResource {
  let attributes: Attributes;
  if (!resource.asyncAttributesPending) attributes = resource.attributes;
  else {
    attributes = {};
    for (const [key, value] of resource.getRawAttributes()) {
      const settled = !(value && typeof (value as { then?: unknown }).then === 'function');
      if (settled && !(key in attributes)) attributes[key] = value as Attributes[string];
    }
  }
  return { attributes, ...(resource.schemaUrl ? { schemaUrl: resource.schemaUrl } : {}) };
}
