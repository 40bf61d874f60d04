/**
 * Cluster workers talking to the worker that serves the scrape for them, when their
 * primary does not run otelkit (PM2's case, elected.ts): a Unix domain socket (a
 * named pipe on Windows) that only local processes of the same user can reach.
 *
 * The messages are those of the cluster IPC (cluster.ts) as newline-delimited JSON:
 * a member says hello with its pid and `worker` id, answers `collect` requests with
 * its cumulative ScopeMetrics, and sends its final totals from its `exit` event. A
 * member counts as gone when its connection closes, after everything it sent was read.
 * After each scrape and at its exit the server hands every member the totals that
 * would end with it (`handover`: its own counters and histograms, and those of the
 * workers that left), so that whichever member serves next can keep them.
 * Both ends are unref'd: the socket keeps no process alive.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { diag } from '@opentelemetry/api';
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
  members?: unknown;
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
      if (!message || typeof message !== 'object') continue;
      try {
        onMessage(message as SocketMessage);
      } catch (err) {
        // a 'data' listener that throws would crash the app
        diag.error('otelkit: could not handle a message from another cluster worker', err);
      }
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

function ownSocket(path: string): boolean {
  if (isWindows) return true; // a named pipe is not a file anyone can put in the way
  try {
    const stat = lstatSync(path);
    return stat.isSocket() && stat.uid === process.getuid?.();
  } catch {
    return false; // not there (yet): no server to join
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

/** How long a new server's first scrape waits for the workers its predecessor had to join it again. */
const REJOIN_WAIT_MS = 3000;

/**
 * In the worker that serves: the other workers join `hub` through `path`. Resolves
 * with a function that closes the socket, or undefined when it could not listen
 * (one line said why; the workers then fall back to what they did before).
 * `expected`: how many workers are expected to join soon (the server before this
 * one had them): until they have, or for at most REJOIN_WAIT_MS, a scrape waits, so
 * that no scrape shows the service's counters without them. `collectNow`: this
 * worker's own metrics at exit, handed over with the rest.
 */
export function serveSocketPeers(
  hub: PeerHub,
  path: string,
  expected: number,
  collectNow: () => ScopeMetrics[] | undefined,
): Promise<(() => void) | undefined> {
  const members = new Map<string, Socket>();
  let rejoined: (() => void) | undefined;
  if (expected > 0)
    hub.hold(
      new Promise((resolve) => {
        const timer = setTimeout(resolve, REJOIN_WAIT_MS);
        timer.unref();
        rejoined = () => {
          if (members.size < expected) return;
          clearTimeout(timer);
          resolve();
        };
      }),
    );
  const request: RequestPeers = (id, peers) => {
    for (const key of peers) {
      const socket = members.get(key);
      if (socket) write(socket, { op: 'collect', id });
    }
  };
  // Until the first scrape: what this worker adopted (a member that joins now gets it too).
  const handing = (own: readonly ScopeMetrics[]) => ({
    op: 'handover',
    metrics: hub.handover(own, request),
    members: members.size,
  });
  let handover = handing([]);
  const server = createServer((socket) => {
    socket.unref();
    socket.on('error', () => {}); // 'close' follows, which is what counts
    let key: string | undefined;
    readLines(socket, (message) => {
      if (message.op === 'hello' && key === undefined && typeof message.pid === 'number') {
        key = `pid:${message.pid}`;
        members.set(key, socket);
        hub.join(key, { worker: String(message.worker) }, request);
        write(socket, { ...handover, members: members.size });
        rejoined?.();
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
  /** This worker stops serving: the members get its totals as of now. */
  const handOverNow = (): void => {
    // An exit listener that throws would change how the process ends.
    try {
      const own = collectNow();
      if (own) handover = handing(own);
    } catch {
      // the members keep the handover of the last scrape
    }
    // A socket write with nothing queued goes out at once, before the process is gone.
    for (const socket of members.values()) write(socket, handover);
  };
  const atExit = (): void => {
    handOverNow();
    unlinkQuietly(path);
  };
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
      process.on('exit', atExit);
      hub.afterMerge = (own) => {
        handover = handing(own);
        for (const socket of members.values()) write(socket, handover);
      };
      resolve(() => {
        hub.afterMerge = undefined;
        process.off('exit', atExit);
        server.close(); // removes the file too
        handOverNow();
        for (const socket of members.values()) socket.end();
      });
    });
  });
}

export interface Member {
  /** This worker's `worker` label. */
  worker: string;
  collect: () => Promise<ScopeMetrics[]>;
  collectNow: () => ScopeMetrics[] | undefined;
  /** The totals the server would leave behind, as of its last scrape, and how many workers had joined it. */
  onHandover: (totals: ScopeMetrics[], members: number) => void;
  /**
   * The connection is gone: `joined` says whether it had connected (the server went
   * away) or not (no server answers on the path).
   */
  onClose: (joined: boolean) => void;
}

/**
 * In a worker that does not serve: joins the server at `path`, answers its collection
 * requests with `collect()`, and sends its final totals at exit when `collectNow` can
 * make them. Returns a function that closes the connection without calling `onClose`.
 */
export function answerSocketServer(path: string, member: Member): () => void {
  const { worker, collect, collectNow, onClose } = member;
  let joined = false;
  let closing = false;
  // Another user could have put a socket of their own at this path in a shared /tmp:
  // only one of this user's is joined (the path cannot be swapped once checked: /tmp is sticky).
  if (!ownSocket(path)) {
    queueMicrotask(() => closing || onClose(false));
    return () => {
      closing = true;
    };
  }
  const socket = connect(path);
  socket.unref();
  socket.on('error', () => {}); // 'close' follows
  socket.on('connect', () => {
    joined = true;
    write(socket, { op: 'hello', pid: process.pid, worker });
  });
  readLines(socket, (message) => {
    if (message.op === 'handover' && Array.isArray(message.metrics))
      member.onHandover(message.metrics, Number(message.members) || 0);
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
