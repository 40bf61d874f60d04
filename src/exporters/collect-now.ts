/**
 * A synchronous collection, for the one moment no promise can settle: the
 * process 'exit' event (`process.exit()` from anywhere, a signal handler that
 * exits at once, the end of the event loop). The SDK's collect() is async only
 * to await observable callbacks; the synchronous instruments' storages give up
 * their data synchronously. So this reads those storages directly, through
 * fields that are private to @opentelemetry/sdk-metrics (pinned to one version
 * in package.json; the exit tests fail if they move). Observable instruments
 * report their values as of the last collection: their callbacks may be async.
 */
import type { HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import type { MetricData, MetricReader, ResourceMetrics, ScopeMetrics } from '@opentelemetry/sdk-metrics';

interface SdkStorage {
  collect(collector: unknown, collectionTime: HrTime): MetricData | null | undefined;
}
interface SdkMeterState {
  _instrumentationScope: ScopeMetrics['scope'];
  metricStorageRegistry: { getStorages(collector: unknown): SdkStorage[] };
}
interface SdkCollector {
  _sharedState: { resource: ResourceMetrics['resource']; meterSharedStates: Map<string, SdkMeterState> };
}

/** The SDK's metrics for `reader`, now; undefined when the SDK's internals are not as expected. */
export function collectSdkNow(reader: MetricReader): ResourceMetrics | undefined {
  const collector = (reader as unknown as { _sdkMetricProducer?: SdkCollector })._sdkMetricProducer;
  const shared = collector?._sharedState;
  if (!shared?.meterSharedStates || typeof shared.meterSharedStates.values !== 'function') return undefined;
  const collectionTime = millisToHrTime(Date.now());
  const scopeMetrics: ScopeMetrics[] = [];
  for (const meter of shared.meterSharedStates.values()) {
    const metrics: MetricData[] = [];
    for (const storage of meter.metricStorageRegistry.getStorages(collector)) {
      const data = storage.collect(collector, collectionTime);
      if (data) metrics.push(data);
    }
    if (metrics.length) scopeMetrics.push({ scope: meter._instrumentationScope, metrics });
  }
  return { resource: shared.resource, scopeMetrics };
}
