/**
 * The main thread's side of an export thread (otlp-worker.ts): requests answered by
 * id over a MessagePort, and, for the process 'exit' event where nothing async runs,
 * a synchronous request that blocks, bounded, on an Atomics flag the thread sets.
 *
 * The worker and its port are unref'd: the thread never keeps the process alive. A
 * crashed thread fails what it had and is started again at the next request.
 */
import { MessageChannel, type Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { exportCause } from './export-failures.js';
import type { ExportReply, ExportRequest } from './otlp-messages.js';

export type SyncExportOutcome = { ok: true } | { ok: false; reason: string };

type Request = ExportRequest extends infer R ? (R extends unknown ? Omit<R, 'id' | 'done'> : never) : never;

export class ExportThread {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (reply: ExportReply) => void>();
  private stopped = false;

  constructor(
    private readonly start: (port: MessagePort) => Worker,
    private readonly startFailed: (message: string) => void,
  ) {
    this.spawn();
  }

  private spawn(): void {
    const { port1, port2 } = new MessageChannel();
    try {
      const worker = this.start(port2);
      port1.on('message', (reply: ExportReply) => this.settle(reply));
      // After the listener: attaching one refs the port again.
      port1.unref();
      worker.unref();
      const lost = (why: string): void => {
        if (this.worker !== worker) return;
        this.worker = this.port = undefined;
        port1.close();
        for (const id of [...this.pending.keys()]) this.settle({ id, ok: false, error: { message: why } });
      };
      worker.on('error', (err) => lost(`the OTLP export thread failed: ${err.message}`));
      worker.on('exit', () => lost('the OTLP export thread stopped'));
      this.worker = worker;
      this.port = port1;
    } catch (err) {
      port1.close();
      this.startFailed(`could not start the OTLP export thread: ${(err as Error).message}`);
    }
  }

  private settle(reply: ExportReply): void {
    const resolve = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    resolve?.(reply);
  }

  request(request: Request): Promise<ExportReply> {
    if (!this.worker && !this.stopped) this.spawn();
    const id = this.nextId++;
    if (!this.port)
      return Promise.resolve({ id, ok: false, error: { message: 'the OTLP export thread is not running' } });
    const port = this.port;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      try {
        port.postMessage({ ...request, id } as ExportRequest);
      } catch (err) {
        this.settle({ id, ok: false, error: { message: (err as Error).message } });
      }
    });
  }

  /**
   * Sends `request` and waits, blocking this thread, until the export thread answers
   * or `timeoutMs` passes. Only for the process 'exit' event.
   */
  requestSync(request: Request, timeoutMs: number): SyncExportOutcome {
    return this.post(request)(timeoutMs);
  }

  /**
   * Sends `request` now and returns what waits for its answer (blocking, at most the
   * given time), so that two export threads can work at once at exit.
   */
  post(request: Request): (timeoutMs: number) => SyncExportOutcome {
    if (!this.worker && !this.stopped) this.spawn();
    const port = this.port;
    if (!port) return () => ({ ok: false, reason: 'the OTLP export thread is not running' });
    const id = this.nextId++;
    const done = new Int32Array(new SharedArrayBuffer(4));
    try {
      port.postMessage({ ...request, id, done } as ExportRequest);
    } catch (err) {
      return () => ({ ok: false, reason: (err as Error).message });
    }
    return (timeoutMs) => {
      if (Atomics.wait(done, 0, 0, timeoutMs) === 'timed-out')
        return { ok: false, reason: `no answer within ${timeoutMs} ms` };
      for (let message = receiveMessageOnPort(port); message; message = receiveMessageOnPort(port)) {
        const reply = message.message as ExportReply;
        if (reply.id !== id) {
          this.settle(reply);
          continue;
        }
        return reply.ok ? { ok: true } : { ok: false, reason: exportCause(reply.error) };
      }
      return { ok: false, reason: 'the OTLP export thread gave no answer' };
    };
  }

  /** Asks the thread to shut its exporter down (waiting at most `timeoutMs`), then ends it. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const worker = this.worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      void this.request({ op: 'shutdown' }).finally(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.worker = undefined;
    this.port?.close();
    this.port = undefined;
    await worker.terminate();
  }
}
