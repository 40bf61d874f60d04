// register() with both exporters at once: Prometheus on an ephemeral 127.0.0.1 port and
// OTLP (http/protobuf) to a local receiver, exporting only when the test flushes.
import { register, type OtelkitHandle, type OtelkitUserConfig } from '../../index.js';
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver.js';

export interface BothExporters {
  otel: OtelkitHandle;
  receiver: OtlpReceiver;
  /** The scrape URL. */
  url: string;
}

export async function registerBothExporters(
  temporality: 'cumulative' | 'delta',
  options: OtelkitUserConfig,
): Promise<BothExporters> {
  const receiver = await startOtlpReceiver({ protocol: 'http/protobuf' });
  const otel = register({
    exporters: ['prometheus', 'otlp'],
    prometheus: { host: '127.0.0.1', port: 0 },
    otlp: { endpoint: receiver.endpoint, protocol: 'http/protobuf', temporality },
    exportIntervalMs: 600_000,
    instrumentations: [],
    ...options,
  });
  const url = (await otel.ready)!.url;
  return { otel, receiver, url };
}
