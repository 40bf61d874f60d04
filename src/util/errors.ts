/**
 * Errors never reach the app: configuration-time problems become one line, anything
 * later goes to the OTel diag logger (silent unless the app enables it).
 */
import { diag } from '@opentelemetry/api';

/** The first line of an error's message (or of any value's text), for one-line warnings. */
export function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n', 1)[0]!;
}

/**
 * Calls `fn(arg)`; a throw is logged through diag as `otelkit: <failure>` and never
 * reaches the caller. `arg` is passed through so hot callers need no closure.
 */
export function tryOrLog<A>(failure: string, fn: (arg: A) => void, arg?: A): void {
  try {
    fn(arg as A);
  } catch (err) {
    diag.error(`otelkit: ${failure}`, err);
  }
}
