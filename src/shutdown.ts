/**
 * The final export on the way out, without changing how the process ends.
 * - 'exit' (process.exit() from anywhere, an app's signal handler that exits at
 *   once, or the end of the event loop): no promise settles any more, so the push
 *   readers collect and export synchronously, bounded by OTELKIT_SHUTDOWN_TIMEOUT
 *   (the OTLP export thread sends while this thread waits).
 * - SIGTERM/SIGINT with no listener but otelkit's: Node would end the process
 *   without 'exit', so otelkit makes the same final export, then re-raises the
 *   signal so the process dies exactly as it would have (same signal, same exit
 *   status). With an app listener, exiting is the app's business, and its
 *   process.exit() or the end of the loop brings 'exit'.
 */
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export function installExitHooks(finalExport: (timeoutMs: number) => void, timeoutMs: number): () => void {
  let exported = false;
  const exportOnce = (): void => {
    if (exported) return;
    exported = true;
    finalExport(timeoutMs);
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    // Counted while otelkit's listener runs first: an app's `process.once`
    // listener is still registered now, and re-raising would kill its shutdown.
    if (process.listenerCount(signal) > 1) return;
    exportOnce();
    uninstall();
    process.kill(process.pid, signal);
  };

  for (const signal of SIGNALS) process.prependListener(signal, onSignal);
  process.on('exit', exportOnce);

  function uninstall(): void {
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
    process.removeListener('exit', exportOnce);
  }
  return uninstall;
}
