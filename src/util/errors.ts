/**
 * Errors never reach the app: configuration-time problems become one line, anything
 * later goes to the OTel diag logger (silent unless the app enables it).
 */

/** The first line of an error's message (or of any value's text), for one-line warnings. */
export function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n', 1)[0]!;
}
