// npm run demo:jobs: a worker service with a BullMQ queue (against its own redis-server),
// an hourly-style timed task and two business events, all observed by otelkit. It runs a
// few jobs (some fail and are retried), prints the relevant lines of its scrape, and exits.
// Without redis-server it says so and uses a p-queue in place of BullMQ.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { instrumentQueue, register, timed, track } from 'otelkit';

// The events mapping; in a service it usually lives in otel.config.mjs as `events`.
const otel = register({
  serviceName: 'jobs-demo',
  // Port 0 picks a free port, so the demo never collides with a running service.
  prometheus: { host: '127.0.0.1', port: 0 },
  events: {
    metrics: {
      'job.accepted': { metric: 'jobs.accepted', unit: '{job}', attributes: ['queue'] },
      'invoice.sent': { metric: 'invoices.amount', type: 'histogram', unit: '{EUR}', value: 'amount' },
    },
  },
});

const stops = []; // what this demo started, stopped in reverse order at the end
// Ctrl-C or a SIGTERM still stops the redis-server this demo started.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    process.exit(1);
  });
}
const redisServer = findBinary('redis-server');

// The cron-like task: any timer works; timed() makes each run one task run.
let reportRuns = 0;
const hourlyReport = timed('reports.hourly', async () => {
  reportRuns++;
  await sleep(5);
});
const timer = setInterval(hourlyReport, 50); // every hour in a real service
stops.push(async () => clearInterval(timer));

try {
  if (redisServer) await runBullmq(redisServer);
  else {
    console.log('demo: redis-server is needed for the BullMQ part (apt-get install redis-server); using a p-queue');
    await runPQueue();
  }
  await until('three report runs', () => reportRuns >= 3);
  await printScrape();
} finally {
  for (const stop of stops.reverse()) await stop();
  await otel.shutdown();
}

async function printScrape() {
  const address = await otel.ready;
  const text = await (await fetch(address.url)).text();
  const shown =
    /^(queue_job_attempts_total|messaging_client_consumed_messages_total|task_runs_total|jobs_accepted_total|invoices_amount_(count|sum))\b/;
  console.log(`scrape: ${address.url}\n`);
  console.log(
    text
      .split('\n')
      .filter((l) => shown.test(l))
      // The scope labels are on every line; leave them out of the short view.
      .map((l) => l.replace(/,?otel_scope_(name|version|schema_url)="[^"]*"/g, '').replace('{}', ''))
      .join('\n'),
  );
}

async function sendInvoice(job) {
  // Every second invoice fails on its first attempt: BullMQ retries it.
  if (job.data.n % 2 === 0 && job.attemptsMade === 0) throw new Error('mail server busy');
  track('invoice.sent', { amount: job.data.amount });
}

async function runBullmq(binary) {
  const { Queue, Worker } = await import('bullmq');
  const connection = await startRedis(binary);
  const queue = new Queue('invoices', { connection });
  const worker = new Worker('invoices', sendInvoice, { connection });
  stops.push(async () => {
    await worker.close();
    await queue.close();
  });
  instrumentQueue({ queue, worker });
  const jobs = 6;
  let done = 0;
  worker.on('completed', () => done++);
  worker.on('failed', (job) => job?.finishedOn && done++); // failed for good: no retry left
  for (let n = 0; n < jobs; n++) {
    await queue.add('invoice', { n, amount: 20 + n * 10 }, { attempts: 2, backoff: { type: 'fixed', delay: 10 } });
    track('job.accepted', { queue: 'invoices' });
  }
  await until('the jobs to finish', () => done >= jobs);
}

async function runPQueue() {
  const { default: PQueue } = await import('p-queue');
  const queue = new PQueue({ concurrency: 2 });
  instrumentQueue(queue, { name: 'invoices' });
  const work = [];
  for (let n = 0; n < 6; n++) {
    track('job.accepted', { queue: 'invoices' });
    // p-queue has no retries: the failing first attempt is simply added again.
    const attempt = (attemptsMade) => queue.add(() => sendInvoice({ data: { n, amount: 20 + n * 10 }, attemptsMade }));
    work.push(attempt(0).catch(() => attempt(1)));
  }
  await Promise.all(work);
}

/** Its own redis-server on a free loopback port, persistence off, stopped by its handle. */
async function startRedis(binary) {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const proc = spawn(binary, [...args, '--dir', '/tmp', '--loglevel', 'warning'], { stdio: 'ignore' });
  const exited = once(proc, 'exit');
  stops.push(async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    await exited;
  });
  for (let tries = 0; !(await answersPing(port)); tries++) {
    if (proc.exitCode !== null || tries > 200) throw new Error(`redis-server did not start on port ${port}`);
    await sleep(50);
  }
  return { host: '127.0.0.1', port, maxRetriesPerRequest: null };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function answersPing(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

function findBinary(name) {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin']) {
    try {
      if (!dir) continue;
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Polls `check`, bounded: a demo that cannot finish says why and still stops what it started. */
async function until(what, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await sleep(20);
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
