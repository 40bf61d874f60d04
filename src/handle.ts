import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { OtelkitConfig } from './config/types.js';

export interface PrometheusAddress {
  host: string;
  port: number;
  /** Full scrape URL, e.g. `http://localhost:9464/metrics`. */
  url: string;
}

/** What register() returns; the same object on every call. */
export interface OtelkitHandle {
  /** True when OTEL_SDK_DISABLED (or `disabled: true`) turned everything into no-ops. */
  readonly disabled: boolean;
  readonly config: OtelkitConfig;
  /** The globally registered provider; undefined when disabled. */
  readonly meterProvider: MeterProvider | undefined;
  /** Where the standalone Prometheus server listens, once it does; undefined otherwise. */
  readonly prometheusAddress: PrometheusAddress | undefined;
  /** Settles once the standalone server is listening (or failed to bind, which is logged). */
  readonly ready: Promise<PrometheusAddress | undefined>;
  /**
   * Serves the scrape on a server of your own (Express, Fastify's raw req/res, node:http).
   * Honours the token; answers 404 when Prometheus export is not enabled.
   */
  metricsHandler(req: IncomingMessage, res: ServerResponse): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}
