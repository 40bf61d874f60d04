/**
 * Finds and loads `otel.config.{ts,mts,cts,js,mjs,cjs}`: the path in OTELKIT_CONFIG,
 * else the working directory. Loaded synchronously, so register() stays sync and
 * the CJS (`--require`) and ESM (`--import`) preloads see the same config: Node's
 * own require() first (it loads ESM since 22.12 and strips TypeScript types on
 * current releases, ~0 ms), jiti only when Node cannot (~0.5 s of start-up).
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { OtelkitUserConfig } from './types.js';
import { SPECIAL_ENV } from './settings.js';
import type { ConfigSource } from './resolve.js';
import { firstLine } from '../util/errors.js';

const NAMES = ['otel.config.ts', 'otel.config.mts', 'otel.config.cts', 'otel.config.js', 'otel.config.mjs', 'otel.config.cjs'];

export interface LoadedFile {
  source?: ConfigSource;
  problem?: string;
}

export function findConfigFile(env: Record<string, string | undefined>, cwd: string): string | { missing: string } | undefined {
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
    return { problem: `${SPECIAL_ENV.configFile}=${JSON.stringify(env[SPECIAL_ENV.configFile])}: no file at ${found.missing}; using environment and defaults only` };
  }
  try {
    const loaded = requireConfig(found) as { default?: unknown } | unknown;
    const config = (loaded && typeof loaded === 'object' && 'default' in loaded ? loaded.default : loaded) as OtelkitUserConfig;
    return { source: { label: basename(found), config } };
  } catch (err) {
    return { problem: `${basename(found)} failed to load (${firstLine(err)}); using environment and defaults only` };
  }
}

/** Errors that mean "Node cannot load this kind of file", not "the file is broken". */
const UNSUPPORTED = new Set(['ERR_UNKNOWN_FILE_EXTENSION', 'ERR_REQUIRE_ASYNC_MODULE', 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX', 'ERR_REQUIRE_ESM', 'ERR_NO_TYPESCRIPT']);

function requireConfig(path: string): unknown {
  const require = createRequire(path);
  try {
    return require(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const tsSyntax = err instanceof SyntaxError && /\.[cm]?ts$/.test(path);
    if (!(code && UNSUPPORTED.has(code)) && !tsSyntax) throw err;
    const { createJiti } = require('jiti') as typeof import('jiti');
    return createJiti(path, { moduleCache: false, fsCache: false, interopDefault: true })(path);
  }
}
