// One export line per instrumentation file.
export type { Instrumentation } from './types.js';
