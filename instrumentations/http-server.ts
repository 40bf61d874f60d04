/**
 * HTTP server metrics for every node:http / node:https server in the process,
 * following the OpenTelemetry HTTP semantic conventions (the instruments are listed
 * in http-server-metrics.ts).
 *
 * How: Node's built-in diagnostics channels, so nothing is patched and ESM and CJS
 * apps alike are covered with no loader flag. `http.server.request.start` and
 * `http.server.response.finish` go to the connection tracker
 * (http-server-connections.ts), which pairs each response with its request's start
 * and hands the requests that ended to the metrics (http-server-metrics.ts); the
 * route template is read when the response ends (http-route.ts).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { noopInstrumentation, type Instrumentation } from '../src/instrumentation.js';
import { isDisabled, onMeter } from '../src/meter-handoff.js';
import { processSingleton } from '../src/process-singleton.js';
import { ConnectionTracker } from './http-server-connections.js';
import { ServerMetrics, type RequestsInFlight } from './http-server-metrics.js';
import { watchFastify } from './http-route.js';
import { shareSubscription, type SharedSubscription } from './shared/channel-subscription.js';

export { setHttpRoute } from './http-route.js';

export interface HttpServerInstrumentationOptions {
  /** Paths never recorded: exact, or a prefix when ending in `*`. Default: config `http.excludePaths`. */
  excludePaths?: string[];
  /** Also record request/response body sizes (from Content-Length). Default: config `http.bodySizes`. */
  bodySizes?: boolean;
}

/** Process-wide: the ESM and CJS builds of otelkit share one subscription and one set of instruments. */
interface Shared extends SharedSubscription {
  metrics?: ServerMetrics;
  /** The running subscription's connection tracker (of whichever build started it). */
  running?: RequestsInFlight;
}

const shared = processSingleton<Shared>('otelkit.http.server', () => ({ users: 0 }));

const START = 'http.server.request.start';
const FINISH = 'http.server.response.finish';

/**
 * Starts HTTP server metrics for every node:http/https server in the process.
 * One process-wide subscription: calling it again returns another handle on the same
 * subscription (options of the first call win); it stops when every handle is disposed.
 */
export function instrumentHttpServer(options: HttpServerInstrumentationOptions = {}): Instrumentation {
  if (isDisabled()) return noopInstrumentation;
  return shareSubscription(shared, () => {
    const unwatchFastify = watchFastify();
    const tracker = new ConnectionTracker();
    subscribe(START, tracker.onRequestStart);
    subscribe(FINISH, tracker.onResponseFinish);
    shared.running = tracker;
    const stopWaiting = onMeter(({ meter, config }) => {
      shared.metrics ??= new ServerMetrics(meter, config, () => shared.running);
      shared.metrics.configure(
        options.excludePaths ?? config.http.excludePaths,
        options.bodySizes ?? config.http.bodySizes,
      );
      tracker.recorder = shared.metrics;
    });
    return () => {
      shared.running = undefined;
      unsubscribe(START, tracker.onRequestStart);
      unsubscribe(FINISH, tracker.onResponseFinish);
      tracker.stop();
      unwatchFastify();
      stopWaiting();
    };
  });
}
