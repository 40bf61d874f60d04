// What a user reads while the collector is down: the first failure with its
// cause, then at most one summary a minute, then one line when it works again.
// The clock is injected: a minute of failures at a 1 s interval is 60 calls.
import { describe, expect, it } from 'vitest';
import { ExportFailureLog, exportCause } from '../../src/exporters/export-failures.js';

function log() {
  let now = 0;
  const lines: string[] = [];
  const failures = new ExportFailureLog({
    endpoint: 'localhost:4317',
    now: () => now,
    error: (l) => lines.push(`E ${l}`),
    warn: (l) => lines.push(`W ${l}`),
  });
  return { failures, lines, advance: (ms: number) => (now += ms) };
}

describe('export failure log', () => {
  it('says the first failure once, with its cause and what to check', () => {
    const { failures, lines } = log();
    failures.failed('ECONNREFUSED 127.0.0.1:4317');
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          /^E otelkit: OTLP export to localhost:4317 failed /.source +
            /\(ECONNREFUSED 127\.0\.0\.1:4317\).*OTEL_EXPORTER_OTLP_ENDPOINT/.source,
        ),
      ),
    ]);
  });

  it('five minutes of failures at a 1 s interval: the first line and one summary a minute', () => {
    const { failures, lines, advance } = log();
    for (let second = 0; second < 300; second++) {
      failures.failed('ECONNREFUSED 127.0.0.1:4317');
      advance(1000);
    }
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(
      new RegExp(
        /^E otelkit: 60 OTLP exports to localhost:4317 failed in the last minute; /.source +
          /last error: ECONNREFUSED 127\.0\.0\.1:4317\. Check/.source,
      ),
    );
    expect(lines.slice(2).every((l) => l.includes('60 OTLP exports'))).toBe(true);
  });

  it('one line when exports work again, and a new outage is announced again', () => {
    const { failures, lines, advance } = log();
    failures.failed('a');
    advance(1000);
    failures.failed('b');
    failures.succeeded();
    failures.succeeded();
    failures.failed('c');
    expect(lines.map((l) => l.slice(0, 60))).toEqual([
      expect.stringContaining('E otelkit: OTLP export to localhost:4317 failed (a)'),
      expect.stringContaining('W otelkit: OTLP export to localhost:4317 works again'),
      expect.stringContaining('E otelkit: OTLP export to localhost:4317 failed (c)'),
    ]);
    expect(lines[1]).toContain('after 2 failed exports');
  });

  it('a long interval: each failure more than a minute apart is summed up as it comes', () => {
    const { failures, lines, advance } = log();
    failures.failed('x');
    advance(120_000);
    failures.failed('x');
    expect(lines[1]).toContain('1 OTLP export to localhost:4317 failed in the last 2 minutes');
  });

  it('causes: the network error out of a gRPC status, HTTP status, first line otherwise', () => {
    const grpc =
      '14 UNAVAILABLE: No connection established. ' +
      'Last error: Error: connect ECONNREFUSED 127.0.0.1:4317 (2026-11-27T12:00:00.000Z)';
    expect(exportCause({ message: grpc, code: 14 })).toBe('ECONNREFUSED 127.0.0.1:4317');
    expect(exportCause({ message: 'connect ECONNREFUSED 127.0.0.1:9.' })).toBe('ECONNREFUSED 127.0.0.1:9');
    expect(exportCause({ message: 'Service Unavailable', code: 503 })).toBe('HTTP 503 Service Unavailable');
    expect(exportCause({ message: 'Request timed out\n  at x' })).toBe('Request timed out');
    expect(exportCause(undefined)).toBe('unknown error');
  });
});
