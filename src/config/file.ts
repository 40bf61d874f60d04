/**
 * Finds and loads `otel.config.{ts,mts,cts,js,mjs,cjs}`: the path in OTELKIT_CONFIG,
 * else the working directory. Loaded synchronously (see load-module.ts), so
 * register() stays sync and the CJS (`--require`) and ESM (`--import`) preloads
 * see the same config.
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { OtelkitUserConfig } from './types.js';
import { SPECIAL_ENV } from './settings.js';
import type { ConfigSource } from './resolve.js';
import { loadModule } from './load-module.js';
import { firstLine } from '../util/errors.js';

const NAMES = [
  'otel.config.ts',
  'otel.config.mts',
  'otel.config.cts',
  'otel.config.js',
  'otel.config.mjs',
  'otel.config.cjs',
];

export interface LoadedFile {
  source?: ConfigSource;
  problem?: string;
}

export function findConfigFile(
  env: Record<string, string | undefined>,
  cwd: string,
): string | { missing: string } | undefined {
  const explicit = env[SPECIAL_ENV.configFile]?.trim();
  if (explicit) {
    const path = resolve(cwd, explicit);
    return existsSync(path) ? path : { missing: path };
  }
  return NAMES.map((name) => resolve(cwd, name)).find((path) => existsSync(path));
}

export function loadConfigFile(env: Record<string, string | undefined>, cwd: string): LoadedFile {
  const found = findConfigFile(env, cwd);
  if (found === undefined) return {};
  if (typeof found === 'object') {
    return {
      problem:
        `${SPECIAL_ENV.configFile}=${JSON.stringify(env[SPECIAL_ENV.configFile])}: no file at ${found.missing}; ` +
        'using environment and defaults only',
    };
  }
  try {
    const loaded = loadModule(found) as { default?: unknown } | unknown;
    const config = (
      loaded && typeof loaded === 'object' && 'default' in loaded ? loaded.default : loaded
    ) as OtelkitUserConfig;
    return { source: { label: basename(found), config } };
  } catch (err) {
    return { problem: `${basename(found)} failed to load (${firstLine(err)}); using environment and defaults only` };
  }
}
