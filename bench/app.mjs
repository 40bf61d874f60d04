/**
 * The app the HTTP server benchmarks serve, from BENCH_APP: `hello` (default), a
 * node:http hello world, where any per-request work shows the most; `express`, an
 * Express 5 route with a path parameter answering JSON (`GET /users/:id`), closer to
 * what a service does per request. Returns the request handler and the path to load.
 * Its own file, not in shared.mjs: bench:http-instructions counts shared.mjs, where
 * the floor's handlers live, as instrumentation code.
 */
export async function benchApp() {
  const app = process.env.BENCH_APP ?? 'hello';
  if (app === 'hello') return { handler: (_req, res) => res.end('hello world'), path: '/' };
  if (app !== 'express') throw new Error(`unknown BENCH_APP ${app} (hello, express)`);
  const { default: express } = await import('express');
  const router = express();
  router.get('/users/:id', (req, res) =>
    res.json({ id: req.params.id, name: 'Ada Lovelace', roles: ['admin', 'user'] }),
  );
  return { handler: router, path: '/users/42' };
}
