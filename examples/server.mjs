// A plain node:http service with no metrics code of its own. Start it with the
// preload and it gets a Prometheus endpoint:
//   OTEL_SERVICE_NAME=checkout node --import otelkit/register examples/server.mjs
import { createServer } from 'node:http';
import { metrics } from '@opentelemetry/api';
import { getOtelkit, setHttpRoute } from 'otelkit';

// A business counter of the app's own, through the standard OTel API.
const ordersPlaced = metrics.getMeter('checkout').createCounter('orders.placed', {
  description: 'Orders accepted by checkout',
  unit: '{order}',
});

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/orders') {
    // Plain node:http has no router: name the route template so it becomes http.route.
    setHttpRoute(req, '/orders');
    ordersPlaced.add(1, { 'payment.method': 'card' });
    res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}');
  } else if (req.url === '/') {
    setHttpRoute(req, '/');
    res.end('hello\n');
  } else {
    res.writeHead(404).end();
  }
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', async () => {
  const scrape = await getOtelkit()?.ready;
  const { port } = server.address();
  // One JSON line so scripts (npm run demo, tests) can find both addresses.
  console.log(JSON.stringify({ app: `http://127.0.0.1:${port}`, metrics: scrape?.url ?? null }));
});

process.on('SIGTERM', () => server.close());
