// A loopback port nothing listens on now (bound once, then closed): for servers that cannot
// take port 0 (Prometheus, redis-server, cluster workers that must race for one port).
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
