/**
 * Preload entry: `node --import otelkit/register app.js` (ESM) or
 * `node --require otelkit/register app.js` (CJS). Starts otelkit from the
 * environment and otel.config.* before the app's first line runs.
 */
import { register } from './register.js';

register();
