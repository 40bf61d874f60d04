/**
 * Loads one config module synchronously, quietly, whatever its syntax and its
 * package's "type". Node's own require() does nearly every case at no cost (it
 * loads ESM and strips TypeScript types); jiti (~0.5 s of start-up) only what
 * Node cannot.
 *
 * The one case Node gets wrong for us: ESM syntax in a file Node reads as
 * CommonJS (`otel.config.ts` with `export default` in a package that `npm init`
 * made, with "type": "commonjs"). Node fails it and prints "Failed to load the ES
 * module ..." on stderr. That one emission, for this file only, is dropped and
 * taken as Node's own verdict that the file is ESM: it is loaded again with its
 * format set to ESM by a module hook that lives only for that call.
 */
import { realpathSync } from 'node:fs';
import { createRequire, registerHooks, type ModuleFormat } from 'node:module';
import { pathToFileURL } from 'node:url';

/** Errors that mean "Node cannot load this kind of file", not "the file is broken". */
const UNSUPPORTED = new Set([
  'ERR_UNKNOWN_FILE_EXTENSION',
  'ERR_REQUIRE_ASYNC_MODULE',
  'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX',
  'ERR_REQUIRE_ESM',
  'ERR_NO_TYPESCRIPT',
]);

const TS = /\.[cm]?ts$/;

export function loadModule(path: string): unknown {
  const nodeRequire = createRequire(path);
  try {
    const first = requireNoticingEsm(nodeRequire, path);
    if (first.esm) return requireAs(nodeRequire, path, TS.test(path) ? 'module-typescript' : 'module');
    if (first.error) throw first.error.value;
    return first.value;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!(code && UNSUPPORTED.has(code))) throw err;
    // Resolved from otelkit itself: the app need not have jiti where its config lives.
    const { createJiti } = createRequire(import.meta.url)('jiti') as typeof import('jiti');
    return createJiti(path, { moduleCache: false, fsCache: false, interopDefault: true })(path);
  }
}

interface Attempt {
  /** Node said the file is ESM read as CommonJS (its warning, dropped). */
  esm: boolean;
  value?: unknown;
  error?: { value: unknown };
}

/**
 * Node reports ESM-in-CommonJS through process.emit('warning') synchronously,
 * inside require(); nothing else of the app runs in that window, and only that
 * exact message for this file is held back.
 */
function requireNoticingEsm(nodeRequire: NodeJS.Require, path: string): Attempt {
  const names = new Set([path, realPath(path)]);
  const attempt: Attempt = { esm: false };
  const emit = process.emit;
  process.emit = function (this: NodeJS.Process, event: string, ...args: unknown[]) {
    const warning = args[0];
    if (event === 'warning' && warning instanceof Error && isEsmVerdict(warning.message, names)) {
      attempt.esm = true;
      return false;
    }
    return (emit as (...a: unknown[]) => boolean).call(this, event, ...args);
  } as typeof process.emit;
  try {
    attempt.value = nodeRequire(path);
  } catch (err) {
    attempt.error = { value: err };
  } finally {
    process.emit = emit;
  }
  return attempt;
}

function isEsmVerdict(message: string, names: Set<string>): boolean {
  const prefix = 'Failed to load the ES module: ';
  if (!message.startsWith(prefix)) return false;
  const rest = message.slice(prefix.length);
  return [...names].some((name) => rest.startsWith(`${name}. `));
}

/** require() with this one file's format overridden, the hook removed right after. */
function requireAs(nodeRequire: NodeJS.Require, path: string, format: ModuleFormat): unknown {
  const urls = new Set([pathToFileURL(path).href, pathToFileURL(realPath(path)).href]);
  const hooks = registerHooks({
    load(url, context, nextLoad) {
      const result = nextLoad(url, context);
      return urls.has(url) ? { ...result, format } : result;
    },
  });
  try {
    return nodeRequire(path);
  } finally {
    hooks.deregister();
  }
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
