// Runs every benchmark in turn; each prints its own ratios table.
import { spawnSync } from 'node:child_process';

for (const script of ['hotpath.mjs', 'http.mjs', 'http-ab.mjs', 'http-instructions.mjs']) {
  const r = spawnSync(process.execPath, [new URL(script, import.meta.url).pathname], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
