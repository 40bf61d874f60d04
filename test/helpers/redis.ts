/**
 * A real Redis for tests: the Debian `redis-server` (installed by .ci/run), started on a
 * free 127.0.0.1 port with persistence off, and stopped by its own handle (never by name).
 * Tests should skip when the binary is absent: describe.skipIf(!hasRedis())(…). Test-only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { findBinary } from './find-binary.js';
import { freePort } from './free-port.js';

export const REDIS_SERVER = findBinary('redis-server');
export const hasRedis = (): boolean => REDIS_SERVER !== undefined;

export interface RedisServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly pid: number;
  /** Connection options for ioredis / BullMQ. */
  readonly connection: { host: string; port: number };
  /** SIGSTOP: the server stops answering (a hung Redis), until resume(). */
  pause(): void;
  resume(): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts redis-server and resolves once it accepts connections (bounded by `timeoutMs`). */
export async function startRedis(timeoutMs = 20_000): Promise<RedisServer> {
  if (!REDIS_SERVER) throw new Error('redis-server is not installed (apt-get install redis-server)');
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const proc: ChildProcess = spawn(REDIS_SERVER, [...args, '--dir', '/tmp', '--loglevel', 'warning'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout!.on('data', (c: Buffer) => (output += c.toString('utf8')));
  proc.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  const deadline = Date.now() + timeoutMs;
  while (!(await answersPing(port))) {
    if (!alive()) throw new Error(`redis-server exited before it answered: ${output}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`redis-server did not answer on port ${port} within ${timeoutMs} ms: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: '127.0.0.1',
    port,
    pid: proc.pid!,
    connection: { host: '127.0.0.1', port },
    pause: () => void (alive() && proc.kill('SIGSTOP')),
    resume: () => void (alive() && proc.kill('SIGCONT')),
    async stop(graceMs = 5000) {
      if (!alive()) return;
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => alive() && proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** One PING over a raw socket: true when the server answers +PONG. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d: Buffer) => done(d.toString().startsWith('+PONG')));
  });
}
