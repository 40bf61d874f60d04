/**
 * Cluster workers talking to the worker that serves the scrape for them, when their
 * primary does not run otelkit (PM2's case, elected.ts): a Unix domain socket (a
 * named pipe on Windows) that only local processes of the same user can reach.
 *
 * The messages are those of the cluster IPC (cluster.ts) as newline-delimited JSON:
 * a member says hello with its pid and `worker` id, answers `collect` requests with
 * its cumulative ScopeMetrics, and sends its final totals from its `exit` event. A
 * member counts as gone when its connection closes, after everything it sent was read.
 * Both ends are unref'd: the socket keeps no process alive.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import type { ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { configWarning } from '../log.js';
import { firstLine } from '../util/errors.js';
import type { PeerHub, RequestPeers } from './hub.js';

interface SocketMessage {
  op?: unknown;
  pid?: unknown;
  worker?: unknown;
  id?: unknown;
  metrics?: unknown;
}

const isWindows = process.platform === 'win32';

/** Calls `onMessage` for each line of `socket` that parses as a JSON object. */
function readLines(socket: Socket, onMessage: (message: SocketMessage) => void): void {
  let partial: string[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    let start = 0;
    for (let end = chunk.indexOf('\n'); end >= 0; end = chunk.indexOf('\n', start)) {
      partial.push(chunk.slice(start, end));
      const line = partial.join('');
      partial = [];
      start = end + 1;
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        continue; // not ours: ignored
      }
      if (message && typeof message === 'object') onMessage(message as SocketMessage);
    }
    if (start < chunk.length) partial.push(chunk.slice(start));
  });
}

function write(socket: Socket, message: object): void {
  try {
    if (socket.writable) socket.write(`${JSON.stringify(message)}\n`);
  } catch {
    // closed meanwhile: the other end keeps what it had
  }
}

function unlinkQuietly(path: string): void {
  if (isWindows) return; // a named pipe goes with its server
  try {
    unlinkSync(path);
  } catch {
    // not there (ENOENT), or not ours to remove: listen() says so if it matters
  }
}

/**
 * In the worker that serves: the other workers join `hub` through `path`. Resolves
 * with a function that closes the socket, or undefined when it could not listen
 * (one line said why; the workers then fall back to what they did before).
 */
export function serveSocketPeers(hub: PeerHub, path: string): Promise<(() => void) | undefined> {
  const members = new Map<string, Socket>();
  const request: RequestPeers = (id, peers) => {
    for (const key of peers) {
      const socket = members.get(key);
      if (socket) write(socket, { op: 'collect', id });
    }
  };
  const server = createServer((socket) => {
    socket.unref();
    socket.on('error', () => {}); // 'close' follows, which is what counts
    let key: string | undefined;
    readLines(socket, (message) => {
      if (message.op === 'hello' && key === undefined && typeof message.pid === 'number') {
        key = `pid:${message.pid}`;
        members.set(key, socket);
        hub.join(key, { worker: String(message.worker) }, request);
      } else if (key === undefined || !Array.isArray(message.metrics)) return;
      else if (message.op === 'metrics') hub.answer(key, Number(message.id) || 0, message.metrics as ScopeMetrics[]);
      else if (message.op === 'bye') hub.leave(key, message.metrics as ScopeMetrics[]);
    });
    socket.on('close', () => {
      if (key === undefined) return;
      members.delete(key);
      hub.leave(key);
    });
  });
  server.unref();
  const removeAtExit = (): void => unlinkQuietly(path);
  return new Promise((resolve) => {
    server.once('error', (err) => {
      configWarning(
        `the Prometheus endpoint serves this worker only: the socket the other cluster workers ` +
          `would join through could not listen on ${path} (${firstLine(err)}); see docs/multi-process.md#pm2`,
      );
      resolve(undefined);
    });
    // A socket left by a server that was killed would make listen() fail: the port says
    // that server is gone, so its file is stale.
    unlinkQuietly(path);
    server.listen(path, () => {
      server.on('error', () => {});
      try {
        if (!isWindows) chmodSync(path, 0o600);
      } catch {
        // the directory's permissions and the umask still apply
      }
      process.on('exit', removeAtExit);
      resolve(() => {
        process.off('exit', removeAtExit);
        server.close(); // removes the file too
        for (const socket of members.values()) socket.destroy();
      });
    });
  });
}

/**
 * In a worker that does not serve: joins the server at `path`, answers its collection
 * requests with `collect()`, and sends its final totals at exit when `collectNow` can
 * make them. `onClose(joined)` is called once the connection is gone: `joined` says
 * whether it had connected (the server went away) or not (no server answers there).
 * Returns a function that closes the connection without calling `onClose`.
 */
export function answerSocketServer(
  path: string,
  worker: string,
  collect: () => Promise<ScopeMetrics[]>,
  collectNow: () => ScopeMetrics[] | undefined,
  onClose: (joined: boolean) => void,
): () => void {
  let joined = false;
  let closing = false;
  const socket = connect(path);
  socket.unref();
  socket.on('error', () => {}); // 'close' follows
  socket.on('connect', () => {
    joined = true;
    write(socket, { op: 'hello', pid: process.pid, worker });
  });
  readLines(socket, (message) => {
    if (message.op !== 'collect') return;
    collect().then(
      (metrics) => write(socket, { op: 'metrics', id: message.id, metrics }),
      () => {}, // the server uses this worker's last answer
    );
  });
  const atExit = (): void => {
    // An exit listener that throws would change how the process ends.
    let metrics: ScopeMetrics[] | undefined;
    try {
      metrics = collectNow();
    } catch {
      // the server keeps this worker's last answer
    }
    // A socket write with nothing queued goes out at once, before the process is gone.
    if (joined && metrics) write(socket, { op: 'bye', metrics });
  };
  process.on('exit', atExit);
  socket.on('close', () => {
    process.off('exit', atExit);
    if (!closing) onClose(joined);
  });
  return () => {
    closing = true;
    socket.destroy();
  };
}
