// HTTP server overhead in instructions: the servers of bench/http.mjs (same `--serve`
// variants), each run under valgrind's callgrind, count the user-space instructions
// the server executes per request, after warm-up, over a fixed number of requests.
// Unlike time, the count does not depend on what else the machine is doing, so a
// difference of a fraction of a percent shows up the same in every run. It leaves out
// what instructions do not see: cache misses (unless BENCH_CACHE_SIM=1, below), the
// kernel, and V8's background threads (none here: the servers run with --single-threaded).
// Reported per variant: instructions per request (median of the measured windows)
// and the ratio to plain, and the instructions in the JavaScript functions of the
// instrumentation itself (otelkit's dist/, the floor's handlers, prom-client, the
// OpenTelemetry packages), named through V8's perf map.
// The young generation is fixed in size so that totals compare between processes
// (V8 sizes it from the heap, and otelkit's larger heap would otherwise get fewer
// scavenges). JIT state is not controlled: a process can end up with a hot Node
// internal running in a less optimized state than another process (seen as
// Builtins_LoadIC in the profile), which moves its total by a few % either way. The
// instrumentation's own column does not depend on that.
// Not in the default variants: `otelkit` with its defaults, whose count is not
// steady here. Its runtime metrics sample on timers (event-loop delay every 10 ms),
// and valgrind's ~50x slowdown likely multiplies each request's share of that timer
// work: one run counted 62 000 and 112 000 instructions per request in two windows.
// With BENCH_CACHE_SIM=1, callgrind also simulates the L1 data cache (32 KB) and
// reports the misses in the instrumentation's own functions per request: the data
// those functions touch that the rest of a request's work evicted in between. This
// is where instructions and time part ways (a miss costs tens of cycles or more, an
// instruction about one); the totals under simulation are not steady for otelkit
// (valgrind's extra slowdown lets timer-driven work pile into the windows), the
// own-function misses are.
// Usage: npm run bench:http-instructions   (needs valgrind; about 3 min per variant, twice that with BENCH_CACHE_SIM=1)
// Env: BENCH_VARIANTS (plain,floor,otelkit-server), BENCH_REQUESTS (10000 per
//      window), BENCH_WINDOWS (3 measured, after two unmeasured; the median is reported),
//      BENCH_CACHE_SIM (0), BENCH_APP (hello | express: see bench/app.mjs)
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { median } from './shared.mjs';

const VARIANTS = (process.env.BENCH_VARIANTS ?? 'plain,floor,otelkit-server').split(',');
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 10_000);
const WINDOWS = Number(process.env.BENCH_WINDOWS ?? 3);
const WARMUP_REQUESTS = 30_000;
const CACHE_SIM = process.env.BENCH_CACHE_SIM === '1';
/** One cell of callgrind_annotate's table: a count with or without its percentage, or `.` for none. */
const CELL = /^\s*(?:([\d,]+)(?:\s+\(\s*[\d.]+%\))?|\.)(?=\s)/;
const SERVER = fileURLToPath(new URL('http.mjs', import.meta.url));
/**
 * Whose code counts as the instrumentation's own (script URLs in V8's perf map):
 * otelkit's build, not a dependency's dist/.
 */
const OWN_CODE = new RegExp(
  `${escapeRegExp(fileURLToPath(new URL('../dist/', import.meta.url)))}|/bench/shared\\.mjs` +
    '|/node_modules/(prom-client|@opentelemetry)/',
);

if (spawnSync('valgrind', ['--version']).error) {
  console.log('# bench:http-instructions needs valgrind (apt-get install valgrind); skipped');
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'otelkit-callgrind-'));
console.log(
  `# ${VARIANTS.join(', ')}: user-space instructions per request under callgrind` +
    `${CACHE_SIM ? ' (with L1 data-cache simulation)' : ''}, app ${process.env.BENCH_APP ?? 'hello'}, ` +
    `${WINDOWS} windows x ${REQUESTS} requests after ${WARMUP_REQUESTS} warm-up, Node ${process.version}`,
);
const results = {};
try {
  for (const variant of VARIANTS) {
    results[variant] = await measure(variant);
    const r = results[variant];
    const misses = CACHE_SIM ? `; L1d misses in own code ${r.ownMisses.map((x) => x.toFixed(1)).join(', ')}` : '';
    console.log(
      `${variant}: ${r.total.map(Math.round).join(', ')} per request; ` +
        `own code ${r.own.map(Math.round).join(', ')}${misses}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const base = results.plain ? median(results.plain.total) : undefined;
console.log(
  "\n| variant | instructions per request | ratio to plain | in the instrumentation's own functions |" +
    `${CACHE_SIM ? ' L1 data-cache misses in its own functions |' : ''}`,
);
console.log(`|---|---|---|---|${CACHE_SIM ? '---|' : ''}`);
for (const v of VARIANTS) {
  const total = median(results[v].total);
  const own = median(results[v].own);
  const misses = CACHE_SIM ? ` ${median(results[v].ownMisses).toFixed(1)} |` : '';
  console.log(
    `| ${v} | ${Math.round(total)} | ${base ? (total / base).toFixed(3) : '-'} | ` +
      `${Math.round(own)} (${((own / total) * 100).toFixed(1)}%) |${misses}`,
  );
}

async function measure(variant) {
  const out = join(dir, `${variant}.%p.out`);
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      ...(CACHE_SIM ? ['--cache-sim=yes'] : []),
      '--instr-atstart=no',
      '--smc-check=all-non-file',
      `--callgrind-out-file=${out}`,
      process.execPath,
      '--single-threaded',
      '--perf-basic-prof',
      '--min-semi-space-size=4',
      '--max-semi-space-size=4',
      SERVER,
      '--serve',
      variant,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  try {
    const [line] = await Promise.race([
      once(child.stdout, 'data'),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`${variant} did not start under valgrind`)), 180_000),
      ),
    ]);
    const { port, path } = JSON.parse(String(line).split('\n')[0]);
    const url = `http://127.0.0.1:${port}${path}`;
    const control = (...args) => {
      const r = spawnSync('callgrind_control', [...args, String(child.pid)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')} failed: ${r.stderr}`);
    };
    await load(url, WARMUP_REQUESTS);
    control('--instr=on');
    // two windows more than measured: right after instrumentation is switched on, valgrind re-translates the JIT code
    for (let w = 0; w < WINDOWS + 2; w++) {
      control('--zero');
      await load(url, REQUESTS);
      control('--dump');
    }
    const dumps = readdirSync(dir)
      .filter((f) => f.startsWith(`${variant}.${child.pid}.out.`))
      .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
    const names = perfMap(child.pid);
    const counted = dumps.slice(-WINDOWS).map((f) => count(join(dir, f), names));
    return {
      total: counted.map((c) => c.total / REQUESTS),
      own: counted.map((c) => c.own / REQUESTS),
      ownMisses: counted.map((c) => c.ownMisses / REQUESTS),
    };
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit').catch(() => {});
    rmSync(`/tmp/perf-${child.pid}.map`, { force: true });
  }
}

async function load(url, amount) {
  // valgrind slows the server 50-100x (more with the cache simulation): autocannon's 10 s default timeout is too short
  const r = await autocannon({ url, connections: 10, amount, timeout: 120 });
  // A few connection errors under valgrind's slowdown shift a per-request count by as few parts in 10 000;
  // more would not be the same workload.
  if (r.non2xx || r.errors > amount / 1000)
    throw new Error(`${r.errors} errors (${r.timeouts} timeouts), ${r.non2xx} non-2xx`);
  if (r.errors) console.error(`(${r.errors} connection errors in ${amount} requests: ignored)`);
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** V8's perf map: code address ranges and their function names (script URL included). */
function perfMap(pid) {
  const entries = readFileSync(`/tmp/perf-${pid}.map`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [start, size, ...name] = l.split(' ');
      return { start: parseInt(start, 16), end: parseInt(start, 16) + parseInt(size, 16), name: name.join(' ') };
    });
  entries.sort((a, b) => a.start - b.start);
  return (address) => {
    let lo = 0;
    let hi = entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (entries[mid].start <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    const e = entries[hi];
    return e && address < e.end ? e.name : undefined;
  };
}

/**
 * Total instructions of a dump, those in the instrumentation's own JIT-compiled
 * functions and, with the cache simulation, the L1 data-cache misses (reads and
 * writes) in those functions.
 */
function count(file, nameOf) {
  const events = CACHE_SIM ? ['Ir', 'D1mr', 'D1mw'] : ['Ir'];
  const text = spawnSync('callgrind_annotate', ['--threshold=100', `--show=${events.join(',')}`, file], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  }).stdout;
  let total = 0;
  let own = 0;
  let ownMisses = 0;
  for (const line of text.split('\n')) {
    const cells = [];
    let rest = line;
    for (const _ of events) {
      const m = CELL.exec(rest);
      if (!m) break;
      cells.push(m[1] ? Number(m[1].replaceAll(',', '')) : 0);
      rest = rest.slice(m[0].length);
    }
    if (cells.length < events.length) continue;
    const name = rest.trim();
    if (name.includes('PROGRAM TOTALS')) total = cells[0];
    const jit = /^\?\?\?:0x([0-9a-f]+)/.exec(name);
    if (jit && OWN_CODE.test(nameOf(parseInt(jit[1], 16)) ?? '')) {
      own += cells[0];
      ownMisses += (cells[1] ?? 0) + (cells[2] ?? 0);
    }
  }
  return { total, own, ownMisses };
}
