// Run with a preload: scrapes the endpoint as soon as it listens and prints the body and
// when (ms since the process started) the answer arrived.
let url;
if (globalThis.benchPromServer) {
  const server = globalThis.benchPromServer;
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${server.address().port}/metrics`;
} else {
  // The ES module build, as the preload: its chunks are loaded already.
  url = (await (await import('otelkit')).getOtelkit().ready).url;
}
const res = await fetch(url);
const body = await res.text();
const at = performance.now();
process.stdout.write(JSON.stringify({ status: res.status, contentType: res.headers.get('content-type'), at, body }));
