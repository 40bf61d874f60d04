// What prom-client's users start with: its default metrics and a metrics server that does
// not keep the process alive. node:http comes as a CommonJS app's require('node:http') gets
// it: an ES module import of node:http builds its ESM facade, which loads undici (tens of ms),
// a cost of the import style that an app pays with or without a metrics library.
const { createServer } = process.getBuiltinModule('node:http');
import client from 'prom-client';

client.collectDefaultMetrics();
const server = createServer(async (_req, res) => {
  res.setHeader('content-type', client.register.contentType);
  res.end(await client.register.metrics());
});
server.listen(Number(process.env.BENCH_PROM_PORT ?? 0), '127.0.0.1');
server.unref();
globalThis.benchPromServer = server;
