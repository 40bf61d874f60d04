/**
 * Opt-in HTTP mode `instrumentation-http`: also starts the official
 * @opentelemetry/instrumentation-http, for users who want its spans (sent to the
 * global TracerProvider they set up). otelkit's own HTTP metrics stay as they are
 * (same names, routes and cost in both modes); instrumentation-http's metrics are
 * given a no-op meter, so the same metric names are never exported twice in two
 * shapes.
 *
 * Loaded lazily (an optional peer dependency). For ESM apps no loader hook is needed:
 * http/https are required once right after enable() so require-in-the-middle patches
 * them, then `syncBuiltinESMExports()` makes `import { request } from 'node:http'`
 * see the patched functions. (The server side patches `Server.prototype.emit`,
 * which ESM and CJS share anyway.)
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { createNoopMeter, diag } from '@opentelemetry/api';
import { warnOnce } from '../src/log.js';
import { tryOrLog } from '../src/util/errors.js';
import { disposeOnce, noopInstrumentation, type Instrumentation } from '../src/instrumentation.js';

interface HttpInstrumentationLike {
  setMeterProvider(provider: { getMeter(): unknown }): void;
  enable(): void;
  disable(): void;
}

/** Starts @opentelemetry/instrumentation-http for spans; a one-line warning if it is not installed. */
export function instrumentHttpSpans(config: Record<string, unknown> = {}): Instrumentation {
  const require = createRequire(import.meta.url);
  let HttpInstrumentation: new (config: Record<string, unknown>) => HttpInstrumentationLike;
  try {
    ({ HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as {
      HttpInstrumentation: typeof HttpInstrumentation;
    });
  } catch {
    warnOnce(
      'instrumentation-http-missing',
      'OTELKIT_HTTP_MODE=instrumentation-http needs @opentelemetry/instrumentation-http ' +
        '(npm install @opentelemetry/instrumentation-http); HTTP spans are off, HTTP metrics are unaffected',
    );
    return noopInstrumentation;
  }
  let instrumentation: HttpInstrumentationLike;
  try {
    instrumentation = new HttpInstrumentation({ ...config, enabled: false });
    const noopMeter = createNoopMeter();
    instrumentation.setMeterProvider({ getMeter: () => noopMeter });
    instrumentation.enable();
    require('node:http');
    require('node:https');
    syncBuiltinESMExports();
  } catch (err) {
    diag.error('otelkit: starting @opentelemetry/instrumentation-http failed; HTTP spans are off', err);
    return noopInstrumentation;
  }
  return disposeOnce(() =>
    tryOrLog('stopping @opentelemetry/instrumentation-http failed', () => {
      instrumentation.disable();
      syncBuiltinESMExports();
    }),
  );
}
