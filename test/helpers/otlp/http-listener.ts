/**
 * OTLP/HTTP for the test receiver: one server for `http/protobuf` and `http/json` (each request
 * is decoded by its content-type), POST /v1/metrics and /v1/logs, identity or gzip bodies, on 127.0.0.1.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import type { Listener, OnExport } from '../otlp-receiver.js';
import { decodeLogs, decodeMetrics } from './decode.js';

export const HTTP_METRICS_PATH = '/v1/metrics';
export const HTTP_LOGS_PATH = '/v1/logs';

export async function startHttpListener(
  port: number,
  onExport: OnExport,
  onError: (e: Error) => void,
): Promise<Listener> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      handle(req, res, Buffer.concat(chunks), onExport, onError).catch((e: Error) => {
        onError(e);
        if (!res.headersSent) res.writeHead(500).end();
      }),
    );
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  onExport: OnExport,
  onError: (e: Error) => void,
) {
  const contentType = req.headers['content-type'];
  const contentEncoding = req.headers['content-encoding'];
  const reject = (status: number, message: string) => {
    onError(new Error(`${req.method} ${req.url} (${contentType ?? 'no content-type'}): ${message}`));
    res.writeHead(status, { 'content-type': 'text/plain' }).end(message);
  };
  const path = (req.url ?? '').split('?')[0];
  const signal = path === HTTP_METRICS_PATH ? 'metrics' : path === HTTP_LOGS_PATH ? 'logs' : undefined;
  if (req.method !== 'POST' || !signal) return reject(404, `unexpected path ${path}`);
  const json = (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';

  let metrics: ReturnType<typeof decodeMetrics> = [];
  let logs: ReturnType<typeof decodeLogs> = [];
  try {
    const bytes = contentEncoding === 'gzip' ? gunzipSync(body) : body;
    if (signal === 'metrics') metrics = decodeMetrics(bytes, json);
    else logs = decodeLogs(bytes, json);
  } catch (e) {
    return reject(400, `cannot decode: ${(e as Error).message}`);
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = String(v);
  const protocol = json ? 'http/json' : 'http/protobuf';
  const reply = onExport({ protocol, signal, headers, contentType, contentEncoding, metrics, logs });

  if (reply.delayMs) await sleep(reply.delayMs, undefined, { ref: false });
  if (res.destroyed) return;
  const status = reply.httpStatus ?? 200;
  if (status < 200 || status > 299) {
    // OTLP/HTTP failures carry a google.rpc.Status; a plain message is enough for the SDK.
    res.writeHead(status, { 'content-type': 'text/plain' }).end(reply.message ?? `status ${status}`);
  } else if (json) {
    res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
  } else {
    // An empty Export(Metrics|Logs)ServiceResponse is zero bytes.
    res.writeHead(status, { 'content-type': 'application/x-protobuf' }).end();
  }
}
