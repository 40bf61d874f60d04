// monitoring/ (shipped in the package) and examples/monitoring are what the code
// generates, and the dashboards hold to their contract: Grafana's typed model, a
// data source variable, job/instance scoping and a unit on every panel.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dashboards } from '../../assets/dashboards/index.js';
import { EXAMPLE_DIR, SHIPPED_DIR, exampleFiles, shippedFiles } from '../../assets/shipped.js';
import pkg from '../../package.json' with { type: 'json' };

const root = join(import.meta.dirname, '..', '..');
const onDisk = (dir: string): string[] =>
  readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(json|ya?ml)$/.test(f))
    .sort();

describe('generated files are committed as generated (npm run assets)', () => {
  it('monitoring/: the same files, the same text', () => {
    const files = shippedFiles();
    expect(onDisk(SHIPPED_DIR)).toEqual(Object.keys(files).sort());
    for (const [path, text] of Object.entries(files))
      expect(readFileSync(join(root, SHIPPED_DIR, path), 'utf8'), `${path}: run npm run assets`).toBe(text);
  });

  it('examples/monitoring: its Prometheus and Grafana configuration', () => {
    for (const [path, text] of Object.entries(exampleFiles()))
      expect(readFileSync(join(root, EXAMPLE_DIR, path), 'utf8'), `${path}: run npm run assets`).toBe(text);
  });

  it('monitoring/ ships in the package, with the otelkit command', () => {
    expect(pkg.files).toContain(SHIPPED_DIR);
    expect(pkg.bin).toEqual({ otelkit: './dist/cli.js' });
  });

  it('every YAML file parses', () => {
    for (const [path, text] of [...Object.entries(shippedFiles()), ...Object.entries(exampleFiles())])
      if (path.endsWith('.yml')) expect(() => parse(text), path).not.toThrow();
  });
});

describe('dashboards', () => {
  const built = dashboards();

  it('the shipped JSON is the typed model the Grafana SDK built, value for value', () => {
    for (const [name, dashboard] of Object.entries(built)) {
      const shipped: unknown = JSON.parse(readFileSync(join(root, SHIPPED_DIR, 'dashboards', name), 'utf8'));
      expect(shipped).toEqual(JSON.parse(JSON.stringify(dashboard)));
      expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(41);
      expect(dashboard.uid).toBe(name.replace(/\.json$/, ''));
    }
  });

  it('choose their data source and scope by service_name, job and instance', () => {
    for (const dashboard of Object.values(built)) {
      const variables = dashboard.templating.list ?? [];
      expect(variables.map((v) => [v.name, v.type])).toEqual([
        ['datasource', 'datasource'],
        ['service_name', 'query'],
        ['job', 'query'],
        ['instance', 'query'],
      ]);
    }
  });

  it('every panel has a unit, the data source variable, and queries scoped to $job and $instance', () => {
    let panels = 0;
    for (const [name, dashboard] of Object.entries(built)) {
      for (const panel of dashboard.panels ?? []) {
        if ('panels' in panel) continue; // a row
        panels++;
        const where = `${name}: ${panel.title}`;
        expect(panel.fieldConfig?.defaults.unit, where).toMatch(/^\w+$/);
        expect(panel.datasource, where).toEqual({ type: 'prometheus', uid: `\${datasource}` });
        expect(panel.targets?.length, where).toBeGreaterThan(0);
        for (const target of panel.targets ?? []) {
          const t = target as unknown as { expr: string; datasource: unknown };
          expect(t.datasource, where).toEqual(panel.datasource);
          expect(t.expr, where).toContain('job=~"$job", instance=~"$instance"');
        }
      }
    }
    expect(panels).toBeGreaterThanOrEqual(30);
  });

  it('panels do not overlap', () => {
    for (const [name, dashboard] of Object.entries(built)) {
      const cells = new Set<string>();
      for (const { gridPos, title } of dashboard.panels ?? []) {
        for (let x = gridPos!.x; x < gridPos!.x + gridPos!.w; x++)
          for (let y = gridPos!.y; y < gridPos!.y + gridPos!.h; y++) {
            expect(cells.has(`${x},${y}`), `${name}: ${title} overlaps`).toBe(false);
            cells.add(`${x},${y}`);
          }
        expect(gridPos!.x + gridPos!.w, `${name}: ${title}`).toBeLessThanOrEqual(24);
      }
    }
  });
});

describe('examples/monitoring/compose.yaml', () => {
  const file = join(root, EXAMPLE_DIR, 'compose.yaml');
  const compose = parse(readFileSync(file, 'utf8')) as {
    services: Record<string, { volumes?: string[]; image: string; environment?: Record<string, string> }>;
  };

  it('wires the app, Prometheus and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['app', 'grafana', 'prometheus']);
    expect(compose.services.app!.environment!.OTEL_EXPORTER_PROMETHEUS_HOST).toBe('0.0.0.0');
  });

  it('mounts files that exist: the app, the config, the generated rules, dashboards and provisioning', () => {
    const mounts = Object.values(compose.services).flatMap((s) => s.volumes ?? []);
    expect(mounts.length).toBeGreaterThanOrEqual(5);
    for (const mount of mounts) {
      const [source] = mount.split(':');
      expect(existsSync(resolve(dirname(file), source!)), mount).toBe(true);
    }
    const prometheus = parse(readFileSync(join(root, EXAMPLE_DIR, 'prometheus.yml'), 'utf8'));
    expect(prometheus.scrape_configs[0].static_configs[0].targets).toEqual(['app:9464']);
  });
});
