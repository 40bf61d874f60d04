/**
 * What the user hears about failing OTLP exports: the first failure once, with
 * its cause and what to check; while failures go on, at most one summary a
 * minute; one line when an export succeeds again. (The SDK itself would log
 * every failed export, gRPC ones as a long JSON stack trace.)
 */
import { diag } from '@opentelemetry/api';
import { firstLine } from '../util/errors.js';

const SUMMARY_EVERY_MS = 60_000;

export interface ExportFailureLogOptions {
  /** Where exports go, as the user configured it. */
  endpoint: string;
  now?: () => number;
  error?: (line: string) => void;
  warn?: (line: string) => void;
}

export class ExportFailureLog {
  private readonly endpoint: string;
  private readonly now: () => number;
  private readonly error: (line: string) => void;
  private readonly warn: (line: string) => void;
  private failing = false;
  private failedInAll = 0;
  private failedSinceLine = 0;
  private lastLineAt = 0;

  constructor(options: ExportFailureLogOptions) {
    this.endpoint = options.endpoint;
    this.now = options.now ?? Date.now;
    this.error = options.error ?? ((line) => diag.error(line));
    this.warn = options.warn ?? ((line) => diag.warn(line));
  }

  failed(cause: string): void {
    this.failedInAll++;
    this.failedSinceLine++;
    const now = this.now();
    if (!this.failing) {
      this.failing = true;
      this.error(
        `otelkit: OTLP export to ${this.endpoint} failed (${cause}); otelkit tries again at every export interval. ` +
          'Check that a collector listens there, or point OTEL_EXPORTER_OTLP_ENDPOINT to one. ' +
          'Further failures are summed up once a minute.',
      );
    } else if (now - this.lastLineAt >= SUMMARY_EVERY_MS) {
      const minutes = Math.round((now - this.lastLineAt) / SUMMARY_EVERY_MS);
      const span = minutes <= 1 ? 'the last minute' : `the last ${minutes} minutes`;
      this.error(
        `otelkit: ${this.failedSinceLine} OTLP export${plural(this.failedSinceLine)} to ${this.endpoint} ` +
          `failed in ${span}; ` +
          `last error: ${cause}. Check the collector at that address, or OTEL_EXPORTER_OTLP_ENDPOINT.`,
      );
    } else return;
    this.lastLineAt = now;
    this.failedSinceLine = 0;
  }

  succeeded(): void {
    if (!this.failing) return;
    this.warn(
      `otelkit: OTLP export to ${this.endpoint} works again, ` +
        `after ${this.failedInAll} failed export${plural(this.failedInAll)}`,
    );
    this.failing = false;
    this.failedInAll = 0;
    this.failedSinceLine = 0;
  }
}

const plural = (n: number): string => (n === 1 ? '' : 's');

/**
 * One short cause from an exporter error: `ECONNREFUSED 127.0.0.1:4317` out of a
 * gRPC status message, `HTTP 503 Service Unavailable`, or the first line.
 */
export function exportCause(error: { message: string; code?: number | string } | undefined): string {
  if (!error) return 'unknown error';
  const network = /\b(E[A-Z]{3,}) ([\w.:[\]-]*[\w\]])/.exec(error.message);
  if (network) return `${network[1]} ${network[2]}`;
  const first = firstLine(error.message).slice(0, 200);
  if (typeof error.code === 'number' && error.code >= 100 && error.code < 600)
    return `HTTP ${error.code} ${first}`.trim();
  return first || String(error.code ?? 'unknown error');
}
