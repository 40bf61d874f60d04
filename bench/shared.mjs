// Pieces the benchmarks share.
import { performance } from 'node:perf_hooks';

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * The `floor` variant's two channel handlers: the least any per-request latency
 * histogram does (a clock read per channel, one WeakMap lookup each, one bucket
 * increment), to compare otelkit's HTTP server instrumentation against.
 */
export function floorHandlers() {
  const now = performance.now.bind(performance);
  const bounds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
  const counts = new Float64Array(bounds.length + 1);
  const open = new WeakMap();
  return {
    onStart({ socket }) {
      let c = open.get(socket);
      if (!c) open.set(socket, (c = { t: 0 }));
      c.t = now();
    },
    onFinish({ socket }) {
      const c = open.get(socket);
      if (!c) return;
      const s = (now() - c.t) / 1000;
      let i = 0;
      while (i < bounds.length && s > bounds[i]) i++;
      counts[i]++;
    },
  };
}
