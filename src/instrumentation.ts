/**
 * The contract between the core and the instrumentations: every instrument*
 * function returns an Instrumentation, and register() stops the ones it started.
 */
export interface Instrumentation {
  /** Stops reporting and releases hooks; safe to call more than once. */
  dispose(): void;
}

/** Shared by no-op paths (disabled otelkit, invalid target). */
export const noopInstrumentation: Instrumentation = Object.freeze({ dispose() {} });

/** An Instrumentation whose dispose() runs `release` the first time only. */
export function disposeOnce(release: () => void): Instrumentation {
  let disposed = false;
  return {
    dispose() {
      if (disposed) return;
      disposed = true;
      release();
    },
  };
}
