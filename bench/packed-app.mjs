// A temporary app with otelkit installed the way a user gets it: `npm pack` of this
// checkout (run `npm run build` first), installed with @opentelemetry/api and
// prom-client at the versions this repository pins.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

export function createPackedApp() {
  const dir = mkdtempSync(join(tmpdir(), 'otelkit-bench-'));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['pack', '--silent', '--pack-destination', dir], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bench-app', version: '1.0.0', private: true }));
  execFileSync(
    npm,
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--silent',
      `./${tarball}`,
      `@opentelemetry/api@${pkg.devDependencies['@opentelemetry/api']}`,
      `prom-client@${pkg.devDependencies['prom-client']}`,
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 },
  );
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
