/**
 * Configuration-time messages: one line on stderr, prefixed, never a throw.
 * Hot-path problems go to the OTel diag logger instead (silent unless enabled).
 */
import { otelkitState } from './state.js';

export function configWarning(message: string): void {
  try {
    process.stderr.write(`otelkit: ${message}\n`);
  } catch {
    // A closed stderr (EPIPE) is no reason to disturb the app.
  }
}

/** Same as configWarning, printed at most once per key for the process. */
export function warnOnce(key: string, message: string): void {
  const { warnedOnce } = otelkitState();
  if (warnedOnce.has(key)) return;
  warnedOnce.add(key);
  configWarning(message);
}
