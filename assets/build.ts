/**
 * `npm run assets`: regenerates monitoring/ and examples/monitoring's configuration
 * from code (dashboards through the Grafana SDK, rules, Prometheus and Grafana
 * configuration). Commit the result; test/unit/assets-shipped.test.ts fails when
 * the committed files are not what the code generates.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EXAMPLE_DIR, SHIPPED_DIR, exampleFiles, shippedFiles } from './shipped.js';

const root = join(import.meta.dirname, '..');

function write(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    const target = join(root, dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
  console.log(`${dir}/: ${Object.keys(files).sort().join(', ')}`);
}

// monitoring/ holds generated files only: start afresh, so a renamed file leaves nothing behind.
rmSync(join(root, SHIPPED_DIR), { recursive: true, force: true });
write(SHIPPED_DIR, shippedFiles());
write(EXAMPLE_DIR, exampleFiles());
