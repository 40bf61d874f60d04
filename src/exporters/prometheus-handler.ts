/**
 * Serves a scrape over node:http req/res: token check, then the reader's text.
 * Used by the standalone server and by the handler users mount on their own server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { diag } from '@opentelemetry/api';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function serveScrape(
  reader: { scrape(): Promise<Buffer> },
  token: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
    res
      .writeHead(401, { 'www-authenticate': 'Bearer realm="metrics"', 'content-type': 'text/plain' })
      .end('unauthorized\n');
    return;
  }
  // The token is checked above, per request, before the request joins a collection
  // other scrapes may share (see PrometheusReader.scrape).
  reader
    .scrape()
    .then(
      (body) => {
        // Another handler (a timeout middleware, say) may have answered meanwhile.
        if (res.headersSent || res.writableEnded) return;
        res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': body.length });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => {
        // The reader logged the failure, once for every scrape that shared it.
        if (res.writableEnded) return;
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('# metrics collection failed\n');
      },
    )
    .catch((err: unknown) => diag.error('otelkit: could not answer a scrape', err));
}

export function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
}

export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1]!.trim());
  const expected = Buffer.from(token);
  // From getBuiltinModule, only when a token is set: an ES module import of node:crypto builds
  // its ESM facade at start-up, which loads Web Crypto through its getters.
  return given.length === expected.length && process.getBuiltinModule('node:crypto').timingSafeEqual(given, expected);
}
