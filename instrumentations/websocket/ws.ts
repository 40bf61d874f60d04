/**
 * `ws` servers. Every connection comes out of `wss.handleUpgrade()`: the server's
 * own upgrade listener calls it through `this.handleUpgrade`, and noServer setups
 * call it themselves, so wrapping it on the instance covers both, for servers
 * created before or after instrumentation. Each new socket gets its `emit`
 * (message / close / error, received) and `send` wrapped: the per-message cost is
 * one extra call and integer increments; listeners and error handling are
 * unchanged (no listener is added, so an unhandled 'error' still behaves as before).
 */
import type { Unhook } from '../shared/targets.js';
import { wrapMethod } from '../shared/targets.js';
import { byteSize, closeClassOfCode, type WebSocketRecord } from './record.js';

type Fn = (this: unknown, ...args: unknown[]) => unknown;
type Socket = Record<string, unknown> & { readyState?: number };

const OPEN = 1;

export function isWsServer(t: Record<string, unknown>): boolean {
  return typeof t.handleUpgrade === 'function' && typeof t.completeUpgrade === 'function';
}

export function hookWsServer(wss: Record<string, unknown>, record: WebSocketRecord, unhooks: Unhook[]): void {
  const sockets = new Map<Socket, Unhook>();
  const attach = (ws: Socket, openedAt: number | undefined) => {
    if (sockets.has(ws) || ws === null || typeof ws !== 'object') return;
    if (openedAt === undefined) record.active++;
    else record.connectionOpened();
    const undo: (Unhook | undefined)[] = [];
    let failed = false; // a socket error decides the class, whatever code the peer's close frame then carried
    undo.push(
      wrapMethod(
        ws,
        'emit',
        (emit: Fn): Fn =>
          function (this: unknown, event: unknown, a: unknown): unknown {
            if (event === 'message') {
              record.received++;
              record.bytesReceived += byteSize(a);
            } else if (event === 'error') {
              record.errors++;
              failed = true;
            } else if (event === 'close' && sockets.delete(ws)) {
              record.connectionClosed(failed ? 'error' : closeClassOfCode(a), openedAt);
              for (const u of undo) u?.();
            }
            return emit.apply(this, arguments as unknown as unknown[]);
          },
      ),
    );
    undo.push(
      wrapMethod(
        ws,
        'send',
        (send: Fn): Fn =>
          function (this: unknown, data: unknown): unknown {
            const open = ws.readyState === OPEN;
            const result = send.apply(this, arguments as unknown as unknown[]);
            if (open) {
              record.sent++;
              record.bytesSent += byteSize(data);
            }
            return result;
          },
      ),
    );
    sockets.set(ws, () => {
      for (const u of undo) u?.();
    });
  };

  const clients = wss.clients;
  if (clients instanceof Set) for (const ws of clients) if ((ws as Socket).readyState === OPEN) attach(ws, undefined);

  const unwrap = wrapMethod(
    wss,
    'handleUpgrade',
    (handleUpgrade: Fn): Fn =>
      function (this: unknown, _req: unknown, _socket: unknown, _head: unknown, cb: unknown): unknown {
        if (typeof cb !== 'function') return handleUpgrade.apply(this, arguments as unknown as unknown[]);
        const args = Array.prototype.slice.call(arguments) as unknown[];
        args[3] = function (this: unknown, ws: Socket) {
          attach(ws, performance.now());
          return (cb as Fn).apply(this, arguments as unknown as unknown[]);
        };
        return handleUpgrade.apply(this, args);
      },
  );
  if (!unwrap) throw new Error('handleUpgrade() of this ws server cannot be wrapped');
  unhooks.push(unwrap, () => {
    // Connections still open stop counting and leave the open count (adopted again if re-instrumented).
    record.active -= sockets.size;
    for (const u of sockets.values()) u();
    sockets.clear();
  });
}
