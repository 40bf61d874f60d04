// `npm run bench:scrape`: the time and CPU a scrape costs the app, otelkit (its defaults)
// against prom-client (its default metrics) holding the same series, in interleaved rounds
// (each side scraped once per round, rotating order), at 1 000 + 100 and 10 000 + 1 000
// counter + histogram series; plus the body size and the heap the series take.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { median } from './shared.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const SIZES = (process.env.BENCH_SIZES ?? '1000,10000').split(',').map(Number);
const DEADLINE = Date.now() + Number(process.env.BENCH_MAX_SECONDS ?? 300) * 1000;
const SIDES = ['otelkit', 'prom-client'];
const app = new URL('scrape/app.mjs', import.meta.url).pathname;

function startApp(kind, counters) {
  const env = { PATH: process.env.PATH, BENCH_COUNTERS: String(counters), BENCH_HISTOGRAMS: String(counters / 10) };
  const child = spawn(process.execPath, ['--expose-gc', app, kind], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} app exited ${code}`)));
    createInterface({ input: child.stdout }).once('line', (line) => resolve({ child, ...JSON.parse(line) }));
  });
}

async function scrapeOnce({ url }) {
  const cpu = async () => Number(await (await fetch(`${url}/cpu`)).text());
  const cpuBefore = await cpu();
  const started = process.hrtime.bigint();
  const res = await fetch(`${url}/metrics`);
  const body = await res.arrayBuffer();
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (res.status !== 200) throw new Error(`scrape answered ${res.status}`);
  return { wallMs, cpuMs: ((await cpu()) - cpuBefore) / 1000, bytes: body.byteLength };
}

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const spread = (xs) => `${fmt(Math.min(...xs))}..${fmt(Math.max(...xs))}`;

console.log(
  '| series (counter + histogram) | side | scrape ms | CPU ms per scrape | body KB | heap bytes per series |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
const ratios = [];
for (const counters of SIZES) {
  const apps = {};
  for (const side of SIDES) apps[side] = await startApp(side, counters);
  try {
    const samples = Object.fromEntries(SIDES.map((s) => [s, []]));
    for (let i = 0; i < 5; i++) for (const side of SIDES) await scrapeOnce(apps[side]); // warm-up
    let rounds = 0;
    for (; rounds < ROUNDS && Date.now() < DEADLINE; rounds++) {
      for (let k = 0; k < SIDES.length; k++) {
        const side = SIDES[(rounds + k) % SIDES.length];
        samples[side].push(await scrapeOnce(apps[side]));
      }
    }
    const series = counters + counters / 10;
    const med = {};
    for (const side of SIDES) {
      const wall = samples[side].map((s) => s.wallMs);
      const cpu = samples[side].map((s) => s.cpuMs);
      med[side] = { wall: median(wall), cpu: median(cpu) };
      console.log(
        `| ${counters} + ${counters / 10} | ${side} | ${fmt(median(wall))} (${spread(wall)}) | ` +
          `${fmt(median(cpu))} (${spread(cpu)}) | ${(samples[side][0].bytes / 1024).toFixed(0)} | ` +
          `${Math.round(apps[side].heapBytes / series)} |`,
      );
    }
    // Per round: otelkit / prom-client of the same round.
    const perRound = samples.otelkit.map((s, i) => s.wallMs / samples['prom-client'][i].wallMs);
    const perRoundCpu = samples.otelkit.map((s, i) => s.cpuMs / samples['prom-client'][i].cpuMs);
    ratios.push(
      `${counters} + ${counters / 10} series, ${rounds} rounds: otelkit / prom-client scrape time ` +
        `${median(perRound).toFixed(2)} (${spread(perRound)}), CPU ${median(perRoundCpu).toFixed(2)} ` +
        `(${spread(perRoundCpu)})`,
    );
  } finally {
    for (const side of SIDES) apps[side].child.kill();
  }
}
console.log(`\n${ratios.join('\n')}\n(target: at most 1.00 with otelkit's defaults)`);
