/**
 * Attribute values the HTTP semantic conventions define and both HTTP
 * instrumentations (server and client) compute: the request method and `error.type`.
 */

/** The request methods the semantic conventions name; anything else is `_OTHER`. */
export const KNOWN_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;
export const OTHER_METHOD = '_OTHER';
const KNOWN: ReadonlySet<unknown> = new Set(KNOWN_METHODS);

/**
 * The `http.request.method` value for a request method: the method itself when the
 * conventions name it (exact, case-sensitive match, as they ask), else `_OTHER`.
 */
export function methodName(method: unknown): string {
  return KNOWN.has(method) ? (method as string) : OTHER_METHOD;
}

/** A low-cardinality `error.type` for a thrown/emitted error: its code, else its class name. */
export function errorType(err: unknown): string {
  if (err && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0 && code.length <= 64) return code;
    const name = (err as { name?: unknown }).name;
    if (typeof name === 'string' && name.length > 0 && name.length <= 64) return name;
  }
  return OTHER_METHOD; // `_OTHER` is also the conventions' fallback for error.type
}
