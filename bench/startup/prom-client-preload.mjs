// What prom-client's users start with: its default metrics and a metrics server that does
// not keep the process alive.
import { createServer } from 'node:http';
import client from 'prom-client';

client.collectDefaultMetrics();
const server = createServer(async (_req, res) => {
  res.setHeader('content-type', client.register.contentType);
  res.end(await client.register.metrics());
});
server.listen(Number(process.env.BENCH_PROM_PORT ?? 0), '127.0.0.1');
server.unref();
globalThis.benchPromServer = server;
