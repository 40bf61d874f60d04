/**
 * Flush on the way out without changing how the process ends.
 * - SIGTERM/SIGINT: flush within a bounded time; then, if otelkit's listener was
 *   the only one, re-raise the signal so the process dies exactly as it would have
 *   (same signal, same exit status). If the app has its own listeners, exiting is
 *   the app's business and otelkit only flushes.
 * - beforeExit: one flush; the process then ends with its own exit code.
 */
import { diag } from '@opentelemetry/api';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export function installShutdownHooks(shutdown: () => Promise<void>, timeoutMs: number): () => void {
  let flushing: Promise<void> | undefined;
  const flushOnce = (): Promise<void> => (flushing ??= bounded(shutdown(), timeoutMs));

  const onSignal = (signal: NodeJS.Signals): void => {
    // Decided now, not after the flush: an app's `process.once` handler has
    // removed itself by then, and re-raising would kill its graceful shutdown.
    const appHandlesSignal = process.listenerCount(signal) > 1;
    void flushOnce().finally(() => {
      uninstall();
      if (!appHandlesSignal) process.kill(process.pid, signal);
    });
  };
  const onBeforeExit = (): void => {
    if (!flushing) void flushOnce();
  };

  // First in line, so the flush starts before an app handler that exits at once.
  for (const signal of SIGNALS) process.prependListener(signal, onSignal);
  process.on('beforeExit', onBeforeExit);

  function uninstall(): void {
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
    process.removeListener('beforeExit', onBeforeExit);
  }
  return uninstall;
}

/** Resolves when `work` settles or after `timeoutMs`, whichever is first; never rejects. */
function bounded(work: Promise<void>, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      diag.warn(`otelkit: flush did not finish within ${timeoutMs} ms; not waiting for it any longer (an OTLP export under way, its request or its retries, goes on until it succeeds or OTEL_EXPORTER_OTLP_TIMEOUT passes)`);
      resolve();
    }, timeoutMs);
    work.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (err: unknown) => {
        diag.error('otelkit: flush at shutdown failed', err);
        clearTimeout(timer);
        resolve();
      },
    );
  });
}
