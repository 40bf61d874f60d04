// `npm run bench:startup`: what `node --import otelkit/register` adds to a process's
// start-up, against `node empty.mjs` and prom-client (default metrics + a metrics server),
// with otelkit packed and installed into a temporary app as a user gets it. Paired,
// interleaved runs (every variant once per round, rotating order); wall time and the
// process's own CPU time. Then a first-scrape check: the endpoint answers its first
// scrape with the default metrics, and promtool accepts it.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { median } from './shared.mjs';
import { createPackedApp } from './packed-app.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const DEADLINE = Date.now() + Number(process.env.BENCH_MAX_SECONDS ?? 240) * 1000;
const env = { PATH: process.env.PATH, OTEL_EXPORTER_PROMETHEUS_PORT: '0' };

const VARIANTS = {
  'node empty.mjs': [],
  'otelkit (--import otelkit/register)': ['--import', 'otelkit/register'],
  'prom-client (default metrics + server)': ['--import', './prom-client-preload.mjs'],
  // The floor under otelkit's own work: its peer dependency, which the preload must load.
  '@opentelemetry/api alone (--import)': ['--import', '@opentelemetry/api'],
};

function run(dir, preload, script) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--import', './cpu-probe.mjs', ...preload, script], { cwd: dir, env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) return reject(new Error(`${preload.join(' ')} ${script} exited ${code}: ${err}`));
      const cpu = /\ncpu (\d+)\n/.exec(out);
      resolve({ wallMs, cpuMs: cpu ? Number(cpu[1]) / 1000 : Number.NaN, out: out.replace(/\ncpu \d+\n$/, ''), err });
    });
  });
}

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const spread = (xs) => `${fmt(Math.min(...xs))}..${fmt(Math.max(...xs))}`;

async function startup(dir) {
  const names = Object.keys(VARIANTS);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (const name of names) for (let i = 0; i < 3; i++) await run(dir, VARIANTS[name], 'empty.mjs'); // warm-up
  let rounds = 0;
  for (; rounds < ROUNDS && Date.now() < DEADLINE; rounds++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(rounds + k) % names.length];
      samples[name].push(await run(dir, VARIANTS[name], 'empty.mjs'));
    }
  }
  const base = samples[names[0]];
  console.log(
    `\nStart-up, ${rounds} interleaved rounds (median, min..max; "added" = minus node empty.mjs of the same round)\n`,
  );
  console.log('| variant | wall ms | added wall ms | CPU ms | added CPU ms |');
  console.log('| --- | --- | --- | --- | --- |');
  const added = {};
  for (const name of names) {
    const s = samples[name];
    const wall = s.map((r) => r.wallMs);
    const cpu = s.map((r) => r.cpuMs);
    const addedWall = s.map((r, i) => r.wallMs - base[i].wallMs);
    const addedCpu = s.map((r, i) => r.cpuMs - base[i].cpuMs);
    added[name] = { wall: median(addedWall), cpu: median(addedCpu) };
    console.log(
      `| ${name} | ${fmt(median(wall))} (${spread(wall)}) | ${fmt(median(addedWall))} (${spread(addedWall)}) | ` +
        `${fmt(median(cpu))} (${spread(cpu)}) | ${fmt(median(addedCpu))} (${spread(addedCpu)}) |`,
    );
  }
  const [, otelkit, prom, api] = names;
  const ratio = (k) => (added[otelkit][k] / added[prom][k]).toFixed(2);
  console.log(`\notelkit's added start-up / prom-client's: wall ${ratio('wall')}, CPU ${ratio('cpu')}`);
  console.log(`otelkit's added wall time: ${fmt(added[otelkit].wall)} ms (target: at most 100)`);
  console.log(
    `of which loading @opentelemetry/api, the peer: ${fmt(added[api].wall)} ms wall, ${fmt(added[api].cpu)} ms CPU`,
  );
}

async function firstScrape(dir) {
  const names = Object.keys(VARIANTS).slice(1, 3);
  const runs = Number(process.env.BENCH_FIRST_SCRAPES ?? 7);
  console.log(`\nFirst scrape, as soon as the endpoint listens (${runs} interleaved runs each):`);
  const results = Object.fromEntries(names.map((n) => [n, { at: [], problems: new Set(), samples: 0 }]));
  for (let i = 0; i < runs && (i === 0 || Date.now() < DEADLINE); i++) {
    for (const name of i % 2 ? [...names].reverse() : names) {
      const { out } = await run(dir, VARIANTS[name], 'first-scrape.mjs');
      const { status, contentType, at, body } = JSON.parse(out);
      const result = results[name];
      result.at.push(at);
      result.samples = body.split('\n').filter((l) => l && !l.startsWith('#')).length;
      if (status !== 200) result.problems.add(`status ${status}`);
      if (!contentType?.startsWith('text/plain; version=0.0.4')) result.problems.add(`content-type ${contentType}`);
      if (name.startsWith('otelkit')) {
        for (const metric of ['target_info{', 'process_cpu_time_seconds_total{', 'v8js_memory_heap_used_bytes{']) {
          if (!body.includes(metric)) result.problems.add(`no ${metric.slice(0, -1)}`);
        }
      }
      const promtool = promtoolCheck(body);
      if (promtool) result.problems.add(`promtool: ${promtool}`);
    }
  }
  let ok = true;
  for (const name of names) {
    const { at, problems, samples } = results[name];
    if (problems.size) ok = false;
    console.log(
      `  ${name}: answered ${fmt(median(at))} ms (${spread(at)}) after start, ${samples} samples, ` +
        (problems.size
          ? `WRONG: ${[...problems].join('; ')}`
          : 'correct every time (status, content type, metrics, promtool)'),
    );
  }
  return ok;
}

/** promtool's complaint about a scrape body, '' when it accepts it or is not installed. */
function promtoolCheck(body) {
  const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
  if (!promtool) return '';
  try {
    execFileSync(promtool, ['check', 'metrics'], { input: body, stdio: ['pipe', 'pipe', 'pipe'] });
    return '';
  } catch (err) {
    // `check metrics` also lints (e.g. counters without _total); only parse errors matter here.
    const text = `${err.stdout}${err.stderr}`;
    return /error while linting|text format parsing error/.test(text) ? text.trim().split('\n')[0] : '';
  }
}

const app = createPackedApp();
try {
  for (const file of readdirSync(new URL('startup/', import.meta.url))) {
    copyFileSync(new URL(`startup/${file}`, import.meta.url), join(app.dir, file));
  }
  await startup(app.dir);
  if (!(await firstScrape(app.dir))) process.exitCode = 1;
} finally {
  app.remove();
}
