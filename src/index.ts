export { register, getOtelkit, metricsHandler } from './register.js';
export { defineConfig } from './config/index.js';
export type { OtelkitConfig, OtelkitUserConfig } from './config/types.js';
export type { OtelkitHandle, PrometheusAddress } from './handle.js';
export type { Instrumentation } from './instrumentation.js';
export { OTELKIT_VERSION } from './version.js';
export * from '../instrumentations/index.js';
