import { loadConfigFile } from './file.js';
import { sdkDisabled } from './parsers.js';
import { resolveConfig, type ResolvedConfig, type ConfigSource } from './resolve.js';
import type { OtelkitUserConfig } from './types.js';

export type { OtelkitConfig, OtelkitUserConfig } from './types.js';

/** Typed identity for `otel.config.ts`: `export default defineConfig({ ... })`. */
export function defineConfig(config: OtelkitUserConfig): OtelkitUserConfig {
  return config;
}

/** Environment first, then register() options, then the config file, then defaults. */
export function loadConfig(
  options: OtelkitUserConfig | undefined,
  env = process.env,
  cwd = process.cwd(),
): ResolvedConfig {
  // Disabled means cheap: no config file is loaded (it may need a TypeScript loader).
  const file = sdkDisabled(env) ? {} : loadConfigFile(env, cwd);
  const sources: ConfigSource[] = [];
  if (options !== undefined) sources.push({ label: 'register()', config: options });
  if (file.source) sources.push(file.source);
  const resolved = resolveConfig(env, sources);
  if (file.problem) resolved.problems.unshift(file.problem);
  return resolved;
}
