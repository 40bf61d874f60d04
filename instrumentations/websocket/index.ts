/**
 * WebSocket server instrumentation: open connections, connections opened and
 * closed (by close-code class), connection duration, messages and payload bytes
 * by direction, and errors, for `ws` servers (ws.ts) and socket.io servers
 * (socket-io.ts). Duck-typed: neither library is imported.
 */
import type { Instrumentation } from '../../src/instrumentation.js';
import type { Built, Unhook } from '../shared/targets.js';
import { WebSocketRecord, webSocketFamily } from './record.js';
import { hookSocketIoServer, isSocketIoServer } from './socket-io.js';
import { hookWsServer, isWsServer } from './ws.js';

export type WebSocketServerKind = 'ws' | 'socket.io';

export interface WebSocketServerInstrumentationOptions {
  /** Reported as `websocket.server.name`. */
  name: string;
  /** Skip detection. */
  kind?: WebSocketServerKind;
}

export { webSocketSnapshot, type CloseClass, type WebSocketServerSnapshot } from './record.js';

/**
 * Reports the connections and messages of a `ws` WebSocketServer (noServer ones
 * included) or a socket.io Server as `websocket.server.*` metrics with
 * `websocket.server.name = options.name`.
 *
 * The same server instrumented twice returns the first handle. `dispose()`
 * undoes every wrapper and stops reporting. A no-op when otelkit is disabled.
 */
export function instrumentWebSocketServer(
  server: object,
  options: WebSocketServerInstrumentationOptions,
): Instrumentation {
  return webSocketFamily.instrument(
    server,
    options?.name,
    (target, name, previous, unhooks) => build(target as Record<string, unknown>, name, options, previous, unhooks),
    (base) => base,
  );
}

function build(
  t: Record<string, unknown>,
  name: string,
  options: WebSocketServerInstrumentationOptions,
  previous: WebSocketRecord | undefined,
  unhooks: Unhook[],
): Built<WebSocketRecord> {
  const kind = options.kind ?? (isWsServer(t) ? 'ws' : isSocketIoServer(t) ? 'socket.io' : undefined);
  if (!kind) throw new Error('not a WebSocket server: expected a ws WebSocketServer or a socket.io Server');
  const record = previous ?? new WebSocketRecord(name);
  if (kind === 'ws') hookWsServer(t, record, unhooks);
  else hookSocketIoServer(t, record, unhooks);
  return { record, unhooks };
}
