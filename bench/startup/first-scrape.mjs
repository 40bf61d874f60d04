// Run with a preload: scrapes the endpoint as soon as it listens and prints the body and
// when (ms since the process started) the answer arrived.
import { createRequire } from 'node:module';

const require = createRequire(`${process.cwd()}/`);
let url;
if (globalThis.benchPromServer) {
  const server = globalThis.benchPromServer;
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${server.address().port}/metrics`;
} else {
  url = (await require('otelkit').getOtelkit().ready).url;
}
const res = await fetch(url);
const body = await res.text();
const at = performance.now();
process.stdout.write(JSON.stringify({ status: res.status, contentType: res.headers.get('content-type'), at, body }));
