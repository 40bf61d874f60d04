/**
 * Child Node processes for tests (preload via `--import otelkit/register`, signals,
 * shutdown flushing…). Spawns `process.execPath` (the Node vitest runs under) with a
 * minimal, explicit environment: only PATH and HOME are inherited, plus what the test
 * passes, so a developer's OTEL_* / NODE_OPTIONS never leak in. Every child has a
 * bounded lifetime and `stopAll()` (afterEach-friendly) kills whatever is left.
 * Test-only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (default cwd, so `test/fixtures/x.mjs` and `otelkit/register` resolve). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ChildOptions {
  /** Arguments after the node binary, e.g. ['--import', 'otelkit/register', 'test/fixtures/app.mjs']. */
  args: string[];
  /** Added to the minimal env (PATH, HOME). `undefined` values are dropped. */
  env?: Record<string, string | undefined>;
  /** Default: the repository root. */
  cwd?: string;
  /** Names of further variables to copy from this process's env (opt-in; default none). */
  inheritEnv?: string[];
  /** Hard limit on the child's lifetime; it is SIGKILLed after this. Default 60 s. */
  maxLifetimeMs?: number;
  /** Written to stdin, which is then closed. Default: stdin closed immediately. */
  stdin?: string;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type LineMatcher = RegExp | string | ((line: string) => boolean);

export interface WaitForLineOptions {
  /** Which output to search. Default 'stdout'. */
  stream?: 'stdout' | 'stderr' | 'any';
}

export interface Child {
  readonly pid: number | undefined;
  readonly process: ChildProcess;
  /** Everything written so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Complete lines so far (a trailing partial line appears once the stream ends). */
  readonly stdoutLines: string[];
  readonly stderrLines: string[];
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ChildExit>;
  /** The exit, once it happened. */
  readonly exit: ChildExit | undefined;
  /**
   * The first line (already printed or future) matching: a RegExp, a substring, or a predicate.
   * Rejects on timeout or if the child exits first, quoting the child's output.
   */
  waitForLine(match: LineMatcher, timeoutMs?: number, options?: WaitForLineOptions): Promise<string>;
  /** The first stdout line that parses as a JSON object (and satisfies `predicate`), parsed. */
  waitForJson<T = Record<string, unknown>>(predicate?: (value: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Sends a signal (no-op once exited). */
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves with the exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ChildExit>;
  /** Output of both streams, for assertion messages. */
  describe(): string;
}

const running = new Set<Child>();

/** Stops every child still running (SIGTERM, then SIGKILL after graceMs). Use in afterEach/afterAll. */
export async function stopAll(graceMs = 3000): Promise<void> {
  await Promise.all([...running].map((c) => c.stop('SIGTERM', graceMs)));
}

function matcher(m: LineMatcher): (line: string) => boolean {
  if (typeof m === 'function') return m;
  if (typeof m === 'string') return (line) => line.includes(m);
  return (line) => {
    m.lastIndex = 0;
    return m.test(line);
  };
}

const tail = (s: string, n = 2000) => (s.length > n ? `…${s.slice(-n)}` : s);

export function startChild(options: ChildOptions): Child {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', ...(options.inheritEnv ?? [])]) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v;

  const proc = spawn(process.execPath, options.args, {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });

  const out = { stdout: '', stderr: '' };
  const lines = { stdout: [] as string[], stderr: [] as string[] };
  const partial = { stdout: '', stderr: '' };
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of [...listeners]) l();
  };
  let exit: ChildExit | undefined;
  let spawnError: Error | undefined;

  const onData = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    out[stream] += text;
    const parts = (partial[stream] + text).split('\n');
    partial[stream] = parts.pop()!;
    for (const p of parts) lines[stream].push(p.replace(/\r$/, ''));
    notify();
  };
  proc.stdout!.on('data', onData('stdout'));
  proc.stderr!.on('data', onData('stderr'));
  const flushPartial = (stream: 'stdout' | 'stderr') => {
    if (partial[stream]) {
      lines[stream].push(partial[stream]);
      partial[stream] = '';
    }
  };
  proc.stdout!.on('end', () => {
    flushPartial('stdout');
    notify();
  });
  proc.stderr!.on('end', () => {
    flushPartial('stderr');
    notify();
  });
  proc.stdin!.on('error', () => {}); // EPIPE if the child exits before reading
  proc.stdin!.end(options.stdin ?? '');

  const lifetime = setTimeout(() => {
    if (!exit) {
      out.stderr += `\n[child helper] killed after maxLifetimeMs=${options.maxLifetimeMs ?? 60_000}\n`;
      proc.kill('SIGKILL');
    }
  }, options.maxLifetimeMs ?? 60_000);
  lifetime.unref();

  const exited = new Promise<ChildExit>((resolve) => {
    // 'close' fires after stdio is drained, so all output is captured by the time this resolves.
    proc.on('close', (code, signal) => {
      exit = { code, signal };
      clearTimeout(lifetime);
      running.delete(child);
      flushPartial('stdout');
      flushPartial('stderr');
      resolve(exit);
      notify();
    });
    proc.on('error', (e) => {
      spawnError = e;
      if (proc.pid === undefined) {
        exit = { code: null, signal: null };
        clearTimeout(lifetime);
        running.delete(child);
        resolve(exit);
        notify();
      }
    });
  });

  const describe = () =>
    `--- child ${JSON.stringify(options.args)} ${exit ? `exited ${JSON.stringify(exit)}` : 'running'}` +
    (spawnError ? `\n--- spawn error: ${spawnError.message}` : '') +
    `\n--- stdout:\n${tail(out.stdout)}\n--- stderr:\n${tail(out.stderr)}`;

  const waitForLine = (match: LineMatcher, timeoutMs = 10_000, opts: WaitForLineOptions = {}): Promise<string> => {
    const test = matcher(match);
    const stream = opts.stream ?? 'stdout';
    const seen = { stdout: 0, stderr: 0 };
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        listeners.delete(check);
        if (timer) clearTimeout(timer);
      };
      const scan = (s: 'stdout' | 'stderr'): string | undefined => {
        for (; seen[s] < lines[s].length; seen[s]++) {
          const line = lines[s][seen[s]]!;
          if (test(line)) return line;
        }
        return undefined;
      };
      function check() {
        const found =
          (stream !== 'stderr' ? scan('stdout') : undefined) ?? (stream !== 'stdout' ? scan('stderr') : undefined);
        if (found !== undefined) {
          finish();
          resolve(found);
        } else if (exit) {
          finish();
          reject(new Error(`child exited before printing a line matching ${String(match)}\n${describe()}`));
        }
      }
      timer = setTimeout(() => {
        finish();
        reject(new Error(`no line matching ${String(match)} on ${stream} within ${timeoutMs} ms\n${describe()}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  };

  const child: Child = {
    pid: proc.pid,
    process: proc,
    get stdout() {
      return out.stdout;
    },
    get stderr() {
      return out.stderr;
    },
    get stdoutLines() {
      return lines.stdout;
    },
    get stderrLines() {
      return lines.stderr;
    },
    exited,
    get exit() {
      return exit;
    },
    waitForLine,
    async waitForJson<T = Record<string, unknown>>(
      predicate: (value: T) => boolean = () => true,
      timeoutMs = 10_000,
    ): Promise<T> {
      let parsed: T | undefined;
      await waitForLine((line) => {
        const t = line.trim();
        if (!t.startsWith('{')) return false;
        try {
          const v = JSON.parse(t) as T;
          if (!predicate(v)) return false;
          parsed = v;
          return true;
        } catch {
          return false;
        }
      }, timeoutMs);
      return parsed!;
    },
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (!exit && proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000) {
      if (exit) return exit;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    describe,
  };
  running.add(child);
  return child;
}
