/**
 * The command line of `otelkit`: `otelkit assets --out DIR [options]`. Parsing only;
 * every mistake is a UsageError with one line saying what is accepted.
 */
import { Invalid, boolean, metricPrefix } from '../../src/config/parsers.js';

export class UsageError extends Error {}

export interface AssetsArgs {
  command: 'assets';
  out: string;
  /** otel.config.* to read `slos` and `alerts` (and the bucket boundaries) from. */
  config?: string;
  target?: string;
  job?: string;
  prometheusUrl?: string;
  /** The app's Prometheus prefix; else the config file's, else OTELKIT_PROMETHEUS_PREFIX. */
  prefix?: string;
  /** Whether the app's names carry unit suffixes; else the config file's, else OTELKIT_PROMETHEUS_UNIT_SUFFIXES. */
  unitSuffixes?: boolean;
}

export type Args = AssetsArgs | { command: 'help' };

/** Options with a value, by flag; `--slo-config` is the same as `--config`. */
/** The text of each option with a value, before it is checked. */
type RawArgs = Partial<Record<Exclude<keyof AssetsArgs, 'command' | 'unitSuffixes'> | 'unitSuffixesText', string>>;

const VALUE_OPTIONS: Record<string, keyof RawArgs> = {
  '--out': 'out',
  '-o': 'out',
  '--config': 'config',
  '--slo-config': 'config',
  '--target': 'target',
  '--job': 'job',
  '--prometheus-url': 'prometheusUrl',
  '--prefix': 'prefix',
  '--unit-suffixes': 'unitSuffixesText',
};

export const USAGE = `Usage: otelkit assets --out <dir> [options]

Writes Grafana dashboards, Prometheus rules (recording, alerts, SLO burn rates),
prometheus.yml and Grafana provisioning files for otelkit's metrics into <dir>.

Options:
  -o, --out <dir>           where to write (created if missing; files there are replaced)
  --config <file>           otel.config.ts (or .mts, .js, ...) whose slos and alerts settings
                            to use; --slo-config is the same option
  --target <host:port>      the scrape target in prometheus.yml (default localhost:9464)
  --job <name>              its job name (default node-app)
  --prometheus-url <url>    Prometheus as Grafana reaches it, for the data source
                            (default http://localhost:9090)
  --prefix <name>           the app's Prometheus metric prefix (prometheus.prefix), put before
                            every metric name in the queries (default: the config file's, else
                            OTELKIT_PROMETHEUS_PREFIX, as the app resolves it)
  --unit-suffixes <bool>    false when the app turns the unit suffixes off (prometheus.unitSuffixes;
                            default: the config file's, else OTELKIT_PROMETHEUS_UNIT_SUFFIXES)
  -h, --help                this text

Docs: https://www.npmjs.com/package/otelkit (docs/dashboards.md)`;

export function parseArgs(argv: string[]): Args {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') return { command: 'help' };
  const [command, ...rest] = argv;
  if (command !== 'assets')
    throw new UsageError(`unknown command "${command}"; the command is: otelkit assets --out <dir>`);
  const raw: RawArgs = {};
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--help' || arg === '-h') return { command: 'help' };
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const key = VALUE_OPTIONS[flag];
    if (key === undefined) {
      throw new UsageError(
        `unknown option "${flag}"; options: ${Object.keys(VALUE_OPTIONS)
          .filter((f) => f !== '-o')
          .join(', ')}, --help`,
      );
    }
    const value = eq > 0 ? arg.slice(eq + 1) : rest[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('-')))
      throw new UsageError(`${flag} needs a value, e.g. ${flag} ${EXAMPLES[key]}`);
    raw[key] = value;
  }
  const { unitSuffixesText, ...texts } = raw;
  const args: Partial<AssetsArgs> = { command: 'assets', ...texts };
  if (unitSuffixesText !== undefined) {
    const unitSuffixes = boolean(unitSuffixesText);
    if (unitSuffixes instanceof Invalid)
      throw new UsageError(`--unit-suffixes "${unitSuffixesText}" is invalid: expected ${unitSuffixes.accepted}`);
    args.unitSuffixes = unitSuffixes;
  }
  if (!args.out) throw new UsageError('--out <dir> is required, e.g. otelkit assets --out ./monitoring');
  if (args.target !== undefined && !/^[^\s/:]+:\d{1,5}$/.test(args.target))
    throw new UsageError(`--target "${args.target}" is invalid: expected host:port, e.g. app:9464`);
  if (args.job !== undefined && !/^\S+$/.test(args.job))
    throw new UsageError(`--job "${args.job}" is invalid: expected a name without spaces, e.g. checkout`);
  if (args.prometheusUrl !== undefined && !/^https?:\/\/\S+$/.test(args.prometheusUrl))
    throw new UsageError(
      `--prometheus-url "${args.prometheusUrl}" is invalid: expected an http(s) URL, e.g. http://prometheus:9090`,
    );
  if (args.prefix !== undefined) {
    const prefix = metricPrefix(args.prefix);
    if (prefix instanceof Invalid)
      throw new UsageError(`--prefix "${args.prefix}" is invalid: expected ${prefix.accepted}`);
    args.prefix = prefix;
  }
  return args as AssetsArgs;
}

const EXAMPLES: Record<keyof RawArgs, string> = {
  out: './monitoring',
  config: 'otel.config.ts',
  target: 'app:9464',
  job: 'checkout',
  prometheusUrl: 'http://prometheus:9090',
  prefix: 'myapp',
  unitSuffixesText: 'false',
};
