/**
 * socket.io servers, observed at the engine.io level, where each socket.io packet
 * is one engine.io `message` packet and its encoded payload is at hand: a
 * connection is an engine.io connection (a client joining several namespaces
 * is one), a message is an engine.io message packet (a socket.io event; each
 * binary attachment is one more), bytes are the encoded payload's bytes
 * (without engine.io framing). Broadcasts count once per receiving connection,
 * as that is what is sent. The engine exists once the server is attached to an
 * HTTP server: now, or later through `bind()` (which `attach()`/`listen()` call).
 */
import { listen, wrapMethod, type Unhook } from '../shared/targets.js';
import { byteSize, type CloseClass, type WebSocketRecord } from './record.js';

type Fn = (this: unknown, ...args: unknown[]) => unknown;
type Packet = { type?: unknown; data?: unknown } | undefined;

export function isSocketIoServer(t: Record<string, unknown>): boolean {
  return typeof t.of === 'function' && typeof t.bind === 'function' && 'sockets' in t;
}

/** engine.io close reasons: it knows no close codes. */
export function closeClassOfReason(reason: unknown): CloseClass {
  switch (reason) {
    case 'transport close':
    case 'forced close':
      return 'normal';
    case 'server shutting down':
      return 'going_away';
    case 'ping timeout':
      return 'abnormal';
    default:
      return 'error';
  }
}

export function hookSocketIoServer(io: Record<string, unknown>, record: WebSocketRecord, unhooks: Unhook[]): void {
  const conns = new Map<object, Unhook>();
  let hookedEngine: object | undefined;

  const attach = (conn: object, openedAt: number | undefined) => {
    if (conns.has(conn) || conn === null || typeof conn !== 'object') return;
    if (openedAt === undefined) record.active++;
    else record.connectionOpened();
    const undo: (Unhook | undefined)[] = [];
    let failed = false;
    const release = () => {
      for (const u of undo) u?.();
    };
    undo.push(
      listen(conn, 'packet', (p: Packet) => {
        if (p?.type !== 'message') return;
        record.received++;
        record.bytesReceived += byteSize(p.data);
      }),
      listen(conn, 'packetCreate', (p: Packet) => {
        if (p?.type !== 'message') return;
        record.sent++;
        record.bytesSent += byteSize(p.data);
      }),
      listen(conn, 'error', () => {
        record.errors++;
        failed = true;
      }),
      listen(conn, 'close', (reason: unknown) => {
        if (!conns.delete(conn)) return;
        record.connectionClosed(failed ? 'error' : closeClassOfReason(reason), openedAt);
        release();
      }),
    );
    conns.set(conn, release);
  };

  const hookEngine = (engine: unknown) => {
    if (engine === null || typeof engine !== 'object' || engine === hookedEngine) return;
    hookedEngine = engine;
    const clients = (engine as { clients?: unknown }).clients;
    if (clients && typeof clients === 'object') for (const conn of Object.values(clients)) attach(conn, undefined);
    const u = listen(engine, 'connection', (conn: object) => attach(conn, performance.now()));
    if (u) unhooks.push(u);
  };

  hookEngine(io.engine);
  const unwrap = wrapMethod(
    io,
    'bind',
    (bind: Fn): Fn =>
      function (this: unknown): unknown {
        const result = bind.apply(this, arguments as unknown as unknown[]);
        hookEngine(io.engine);
        return result;
      },
  );
  if (unwrap) unhooks.push(unwrap);
  unhooks.push(() => {
    // Connections still open stop counting and leave the open count (adopted again if re-instrumented).
    record.active -= conns.size;
    for (const u of conns.values()) u();
    conns.clear();
  });
}
