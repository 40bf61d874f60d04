#!/usr/bin/env node
/**
 * `npx otelkit assets --out <dir> [--config otel.config.ts] [--prefix p]`: writes the
 * dashboards shipped in the package (monitoring/dashboards, their queries prefixed when
 * the app has a Prometheus prefix) and generates the rules, Prometheus configuration
 * and Grafana provisioning, with the SLOs and alert settings of the config file.
 * Exit codes: 0 written, 1 a config or file-system error, 2 a usage error.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultAlerts, parseAlerts } from '../../src/config/alerts.js';
import { loadModule } from '../../src/config/load-module.js';
import { resolveConfig, type ResolvedConfig } from '../../src/config/resolve.js';
import { SLO_HISTOGRAM, parseSlos } from '../../src/config/slos.js';
import type { AlertsConfig, OtelkitUserConfig, SloConfig } from '../../src/config/types.js';
import { bucketsFor } from '../../src/series-policy.js';
import { firstLine } from '../../src/util/errors.js';
import { prefixDashboard } from '../dashboard-prefix.js';
import type { Naming } from '../prefix.js';
import { DEFAULT_JOB, DEFAULT_PROMETHEUS_URL, DEFAULT_TARGET, assetFiles } from '../files.js';
import { USAGE, UsageError, parseArgs, type AssetsArgs } from './args.js';

class CliError extends Error {}

/** dist/cli.js -> the package's monitoring/dashboards. */
const DASHBOARDS_DIR = fileURLToPath(new URL('../monitoring/dashboards/', import.meta.url));

interface Settings {
  slos: SloConfig[];
  alerts: AlertsConfig;
  prefix: string | undefined;
  unitSuffixes: boolean;
}

/** The prefix as the app resolves it (OTELKIT_PROMETHEUS_PREFIX over the file's); an invalid one is an error. */
function prefixOf(resolved: ResolvedConfig): string | undefined {
  const problems = resolved.problems.filter((p) => /PROMETHEUS_PREFIX|prometheus\.prefix/.test(p));
  if (problems.length) throw new CliError(problems.map((p) => p.replace(/; using nothing$/, '')).join('\n'));
  return resolved.config.prometheus.prefix || undefined;
}

function readSettings(path: string | undefined): Settings {
  if (path === undefined) {
    const resolved = resolveConfig(process.env, []);
    return {
      slos: [],
      alerts: defaultAlerts(),
      prefix: prefixOf(resolved),
      unitSuffixes: resolved.config.prometheus.unitSuffixes,
    };
  }
  const file = resolve(path);
  if (!existsSync(file)) throw new CliError(`--config: no file at ${file}`);
  let loaded: unknown;
  try {
    loaded = loadModule(file);
  } catch (err) {
    throw new CliError(`${basename(file)} failed to load (${firstLine(err)})`);
  }
  const config = (loaded && typeof loaded === 'object' && 'default' in loaded ? loaded.default : loaded) as unknown;
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw new CliError(`${basename(file)}: expected a default export of settings (see defineConfig)`);
  const user = config as OtelkitUserConfig;
  const label = basename(file);
  // The bucket boundaries the app will use (file and environment), to check latency thresholds against.
  const all = resolveConfig(process.env, [{ label, config: user }]);
  const resolved = all.config;
  const slos = parseSlos(user.slos, bucketsFor(resolved, SLO_HISTOGRAM, 's') ?? [], label);
  const alerts = parseAlerts(user.alerts, defaultAlerts(), label);
  const problems = [...slos.problems, ...alerts.problems].map((p) =>
    p.replace(/; (leaving this SLO out|using .*)$/, ''),
  );
  if (problems.length) throw new CliError(problems.join('\n'));
  return {
    slos: slos.slos,
    alerts: alerts.alerts,
    prefix: prefixOf(all),
    unitSuffixes: resolved.prometheus.unitSuffixes,
  };
}

function dashboardFiles(naming: Naming): Record<string, string> {
  const names = readdirSync(DASHBOARDS_DIR).filter((name) => name.endsWith('.json'));
  return Object.fromEntries(
    names.map((name) => [
      `dashboards/${name}`,
      prefixDashboard(readFileSync(join(DASHBOARDS_DIR, name), 'utf8'), naming),
    ]),
  );
}

function write(out: string, files: Record<string, string>): void {
  const root = resolve(out);
  for (const [path, text] of Object.entries(files)) {
    const target = join(root, path);
    try {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, text);
    } catch (err) {
      throw new CliError(`cannot write to ${root} (${firstLine(err)}); choose another --out`);
    }
  }
}

function assets(args: AssetsArgs): string[] {
  const settings = readSettings(args.config);
  const prefix = args.prefix ?? settings.prefix;
  const unitSuffixes = args.unitSuffixes ?? settings.unitSuffixes;
  const { slos, alerts } = settings;
  const files = {
    ...dashboardFiles({ prefix, unitSuffixes }),
    ...assetFiles({
      slos,
      alerts,
      target: args.target ?? DEFAULT_TARGET,
      job: args.job ?? DEFAULT_JOB,
      prometheusUrl: args.prometheusUrl ?? DEFAULT_PROMETHEUS_URL,
      prefix,
      unitSuffixes,
    }),
  };
  write(args.out, files);
  return Object.keys(files).sort();
}

function main(argv: string[]): number {
  try {
    const args = parseArgs(argv);
    if (args.command === 'help') {
      console.log(USAGE);
      return 0;
    }
    const written = assets(args);
    console.log(`otelkit assets: wrote ${written.length} files to ${resolve(args.out)}:\n  ${written.join('\n  ')}`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`otelkit: ${err.message}\nRun otelkit --help for the options.`);
      return 2;
    }
    if (err instanceof CliError) {
      console.error(
        err.message
          .split('\n')
          .map((line) => `otelkit assets: ${line}`)
          .join('\n'),
      );
      return 1;
    }
    throw err;
  }
}

process.exitCode = main(process.argv.slice(2));
