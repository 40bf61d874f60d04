/**
 * register(): builds the provider once per process, registers it globally,
 * starts the scrape server and the default instrumentations, hooks shutdown.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DiagConsoleLogger, DiagLogLevel, diag, metrics, type DiagLogger } from '@opentelemetry/api';
import { withUnitBucketAdvice } from './buckets.js';
import { loadConfig } from './config/index.js';
import { defaultConfig } from './config/defaults.js';
import type { LogLevel, OtelkitConfig, OtelkitUserConfig } from './config/types.js';
import { startDefaultInstrumentations } from './instrumentations.js';
import { noopInstrumentation, type Instrumentation } from './instrumentation.js';
import { notFound, serveScrape } from './exporters/prometheus-handler.js';
import { markNotCounted } from './own-traffic.js';
import { startPrometheusServer } from './exporters/prometheus-server.js';
import { StatsService, statsHolder } from './stats/stats-service.js';
import type { OtelkitHandle, PrometheusAddress } from './handle.js';
import { configWarning, warnOnce } from './log.js';
import { publishMeter } from './meter-handoff.js';
import type { CumulativePeriodicReader } from './exporters/otlp.js';
import { createLogExport, type LogExport } from './exporters/log-export.js';
import type { SyncExportOutcome } from './exporters/export-thread.js';
import { configForRole, createHub, electionPath, joinElection, joinPeers, peerRole } from './peers/index.js';
import { buildProvider } from './provider.js';
import { installExitHooks } from './shutdown.js';
import { otelkitState } from './state.js';
import { firstLine, tryOrLog } from './util/errors.js';
import { OTELKIT_VERSION } from './version.js';

/**
 * Starts otelkit from the environment, `options` and `otel.config.*`, in that order
 * of precedence. Safe to call more than once: later calls return the first handle.
 */
export function register(options?: OtelkitUserConfig): OtelkitHandle {
  const state = otelkitState();
  if (state.handle) {
    if (state.stopped)
      warnOnce(
        'register-after-shutdown',
        'register() after shutdown(): otelkit starts once per process and is stopped; returning the stopped handle',
      );
    else
      warnOnce(
        'register-twice',
        'register() was already called (by the otelkit/register preload or your code); ' +
          'returning the existing handle, later options are ignored',
      );
    return state.handle;
  }
  let handle: OtelkitHandle;
  try {
    const { config, problems } = loadConfig(options);
    for (const problem of problems) configWarning(problem);
    handle = config.disabled ? disabledHandle(config) : start(config);
  } catch (err) {
    configWarning(`failed to start (${firstLine(err)}); metrics are off, the app keeps running`);
    handle = disabledHandle(defaultConfig());
  }
  state.handle = handle;
  state.disabled = handle.disabled;
  return handle;
}

/** The handle if register() ran, without registering or warning. */
export function getOtelkit(): OtelkitHandle | undefined {
  return otelkitState().handle;
}

/**
 * Mount on your own server instead of (or besides) the standalone port, e.g.
 * `app.get('/metrics', metricsHandler)`. Answers 404 until otelkit is registered with Prometheus export.
 */
export function metricsHandler(req: IncomingMessage, res: ServerResponse): void {
  const handle = otelkitState().handle;
  if (handle) handle.metricsHandler(req, res);
  else notFound(res);
}

function start(configured: OtelkitConfig): OtelkitHandle {
  const role = peerRole();
  const config = configForRole(configured, role);
  const hub = createHub(config, role);
  const { provider, prometheus, pushReaders } = buildProvider(config, hub);
  const globalProvider = withUnitBucketAdvice(provider);
  if (!metrics.setGlobalMeterProvider(globalProvider)) {
    configWarning(
      'another MeterProvider is already registered globally, so otelkit did not start; ' +
        'use the otelkit/register preload, or call register() before any other OpenTelemetry metrics setup',
    );
    provider.shutdown().catch(() => {});
    return disabledHandle(config);
  }
  setDiagLevel(config.logLevel);
  // What metricsHandler serves: this process's reader, or in a cluster worker the primary's merged scrape.
  let scrapeSource: { scrape(): Promise<Buffer> } | undefined = prometheus;
  tryOrLog('joining the cluster workers or worker threads failed', () => {
    scrapeSource = joinPeers(role, hub, prometheus, config);
  });

  // PM2's case: the workers race for the port, and the one that gets it serves for all.
  const elected = prometheus && hub ? electionPath(config, role) : undefined;
  const server =
    prometheus && config.prometheus.server
      ? startPrometheusServer(prometheus, config, { quietWhenInUse: elected !== undefined })
      : undefined;
  let prometheusAddress: PrometheusAddress | undefined;
  const ready = (server?.listening ?? Promise.resolve(undefined)).then((address) => (prometheusAddress = address));
  let stopElection: (() => void) | undefined;
  if (elected && server && hub && prometheus)
    tryOrLog('the cluster workers could not elect their Prometheus server', () => {
      stopElection = joinElection(elected, config, server, hub, prometheus, (address) => {
        prometheusAddress = address;
      });
    });

  const stats = (statsHolder().service = new StatsService({ windowsSeconds: config.health.statsWindows }));
  const logExport = config.events.logExporters.length > 0 ? createLogExport(config) : undefined;
  publishMeter({ meter: globalProvider.getMeter('otelkit', OTELKIT_VERSION), config, logger: logExport?.logger });
  let instrumentations: Instrumentation = noopInstrumentation;
  try {
    instrumentations = startDefaultInstrumentations(config);
  } catch (err) {
    configWarning(`the default instrumentations failed to start (${firstLine(err)}); the rest of otelkit runs`);
  }

  let stopped: Promise<void> | undefined;
  const shutdown = (): Promise<void> =>
    (stopped ??= (async () => {
      otelkitState().stopped = true;
      uninstallHooks();
      stats.stop();
      stopElection?.();
      tryOrLog('error while stopping instrumentations', () => instrumentations.dispose());
      await withinMs(
        Promise.allSettled([provider.shutdown(), server?.close(), logExport?.shutdown(config.shutdownTimeoutMs)]),
        config.shutdownTimeoutMs,
      );
    })());
  const uninstallHooks = installExitHooks(
    (timeoutMs) => exportAtExit(pushReaders, logExport, config, timeoutMs),
    config.shutdownTimeoutMs,
  );

  return {
    disabled: false,
    config,
    meterProvider: provider,
    get prometheusAddress() {
      return prometheusAddress;
    },
    ready,
    metricsHandler(req, res) {
      markNotCounted(req);
      if (scrapeSource) serveScrape(scrapeSource, config.prometheus.token, req, res);
      else notFound(res);
    },
    forceFlush: () =>
      Promise.all([provider.forceFlush(), logExport?.forceFlush()])
        .then(() => {})
        .catch((err: unknown) => diag.error('otelkit: forceFlush failed', err)),
    shutdown,
  };
}

/**
 * The final export of each push reader and of the log records still batched, one
 * deadline for all (the log records are handed to their export thread first, so the
 * two threads send at once); one stderr line for each that did not go through.
 */
function exportAtExit(
  readers: CumulativePeriodicReader[],
  logExport: LogExport | undefined,
  config: OtelkitConfig,
  timeoutMs: number,
): void {
  const deadline = Date.now() + timeoutMs;
  let logs: ((timeoutMs: number) => SyncExportOutcome) | undefined;
  try {
    logs = logExport?.beginExportAtExit(timeoutMs);
  } catch (err) {
    configWarning(`the final log export at exit failed (${firstLine(err)})`);
  }
  for (const reader of readers) {
    try {
      const outcome = reader.exportAtExit(Math.max(0, deadline - Date.now()));
      if (outcome && !outcome.ok) {
        configWarning(
          `the final OTLP export to ${config.otlp.endpoint} did not go through (${outcome.reason}); ` +
            'the metrics recorded since the last successful export were not delivered. ' +
            'Check the collector, or give the exit more time with OTELKIT_SHUTDOWN_TIMEOUT',
        );
      }
    } catch (err) {
      configWarning(`the final export at exit failed (${firstLine(err)})`);
    }
  }
  try {
    const outcome = logs?.(Math.max(0, deadline - Date.now()));
    if (outcome && !outcome.ok)
      configWarning(
        `the final OTLP log export to ${config.events.logEndpoint} did not go through (${outcome.reason}); ` +
          'the tracked events batched since the last export were not delivered as log records',
      );
  } catch (err) {
    configWarning(`the final log export at exit failed (${firstLine(err)})`);
  }
}

/** Waits for `work` at most `ms`; never rejects. */
function withinMs(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    void work.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function disabledHandle(config: OtelkitConfig): OtelkitHandle {
  return {
    disabled: true,
    config,
    meterProvider: undefined,
    prometheusAddress: undefined,
    ready: Promise.resolve(undefined),
    metricsHandler: (_req, res) => notFound(res),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
}

const DIAG_LEVELS: Record<LogLevel, DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

/**
 * otelkit's console logger at `level`, unless the app registered a diag logger of its
 * own first: that one (and its level) is the app's choice and stays.
 */
function setDiagLevel(level: LogLevel): void {
  if (level === 'none' || appDiagLoggerRegistered()) return;
  diag.setLogger(quietOnReplace(new DiagConsoleLogger()), {
    logLevel: DIAG_LEVELS[level],
    suppressOverrideMessage: true,
  });
}

/** The API keeps the registered diag logger in its global registry (there is no getter). */
function appDiagLoggerRegistered(): boolean {
  const registry = (globalThis as Record<symbol, { diag?: unknown } | undefined>)[Symbol.for('opentelemetry.js.api.1')];
  return registry?.diag !== undefined;
}

/**
 * With the preload, otelkit's logger is in place before the app's code runs, so an app
 * that sets its own replaces it as a matter of course; the API then has the old logger
 * print a warning with a stack trace, which would only alarm whoever reads the log.
 */
function quietOnReplace(logger: DiagLogger): DiagLogger {
  return {
    error: (message, ...args) => logger.error(message, ...args),
    warn: (message, ...args) => {
      // Not every caller passes a string, and a logger must not throw into its caller.
      if (typeof message !== 'string' || !message.startsWith('Current logger will be overwritten'))
        logger.warn(message, ...args);
    },
    info: (message, ...args) => logger.info(message, ...args),
    debug: (message, ...args) => logger.debug(message, ...args),
    verbose: (message, ...args) => logger.verbose(message, ...args),
  };
}
