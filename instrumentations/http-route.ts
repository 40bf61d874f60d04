/**
 * `http.route`: the route template that matched a server request, read when the
 * response ends. Never the raw path; undefined when nothing matched (so a 404 flood
 * on random paths adds no series).
 *
 * Sources, in order:
 * - `setHttpRoute(req, '/users/:id')`: plain node:http apps (or any override).
 * - Fastify (zero config): otelkit subscribes to Fastify's `fastify.initialization`
 *   diagnostics channel and adds one `onRequest` hook to every new instance, which
 *   copies `request.routeOptions.url` onto the raw request.
 * - Express 4 and 5 (zero config): `req.route.path`, prefixed by the routers the
 *   route is mounted under. `req.baseUrl` holds the *matched* mount path
 *   (`/tenants/42`), so the prefix comes from the mount layers instead: their
 *   registered path (`rawPath`, Express 5) or their path regexp with the captured
 *   values put back as `:name` (Express 4), and for sub-apps their `mountpath`.
 *   Looked up once per route object.
 */
import type { IncomingMessage } from 'node:http';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { diag } from '@opentelemetry/api';
import { processSingleton } from './http-shared.js';

const kRoute = Symbol.for('otelkit.http.route');

/**
 * Whether any request in the process was ever given a route or a not-counted mark.
 * Until then the per-request reads of those marks are skipped: a symbol-keyed read
 * costs a call into V8's generic keyed-load stub per request, a flag read does not.
 * On globalThis so the ESM and CJS builds see each other's marks.
 */
const marks = processSingleton('otelkit.http.marks', () => ({ used: false }));

/**
 * Sets the `http.route` template for a request on a plain node:http server (or
 * overrides what otelkit detected). Pass the template (`/users/:id`), never the raw path.
 */
export function setHttpRoute(req: IncomingMessage, route: string): void {
  if (req && typeof req === 'object' && typeof route === 'string') {
    marks.used = true;
    (req as unknown as Record<symbol, string>)[kRoute] = route;
  }
}

const kNotCounted = Symbol.for('otelkit.http.notCounted');

/**
 * Marks a server request as never counted (otelkit's own scrape handler mounted on
 * the app). A property on the few marked requests rather than a WeakSet lookup on
 * every request: reading an absent property is the cheaper miss.
 */
export function markNotCounted(req: IncomingMessage): void {
  marks.used = true;
  (req as unknown as Record<symbol, boolean>)[kNotCounted] = true;
}

export function isNotCounted(req: IncomingMessage): boolean {
  return marks.used && (req as unknown as Record<symbol, unknown>)[kNotCounted] === true;
}

/** The route template of a finished request, or undefined when no route matched. */
export function routeOf(req: IncomingMessage): string | undefined {
  const r = req as unknown as Record<symbol | string, unknown>;
  if (marks.used) {
    const explicit = r[kRoute];
    if (typeof explicit === 'string') return explicit;
  }
  const route = r.route as { path?: unknown } | undefined | null;
  if (route && typeof route === 'object' && route.path !== undefined) return expressRoute(r, route);
  return undefined;
}

// ---- Fastify -----------------------------------------------------------------

interface FastifyLike {
  addHook(name: 'onRequest', hook: (request: FastifyRequestLike, reply: unknown, done: () => void) => void): unknown;
}
interface FastifyRequestLike {
  raw: object;
  routeOptions?: { url?: unknown };
}

function fastifyOnRequest(request: FastifyRequestLike, _reply: unknown, done: () => void): void {
  try {
    const url = request.routeOptions?.url;
    if (typeof url === 'string') {
      marks.used = true;
      (request.raw as Record<symbol, string>)[kRoute] = url;
    }
  } catch (err) {
    diag.debug('otelkit: reading the Fastify route failed', err);
  }
  done();
}

function onFastifyInit(message: unknown): void {
  const instance = (message as { fastify?: FastifyLike } | undefined)?.fastify;
  if (!instance || typeof instance.addHook !== 'function') return;
  try {
    instance.addHook('onRequest', fastifyOnRequest);
  } catch (err) {
    diag.warn('otelkit: could not add the route hook to a Fastify instance; its requests have no http.route', err);
  }
}

/** Watches for new Fastify instances; returns the unsubscribe. */
export function watchFastify(): () => void {
  subscribe('fastify.initialization', onFastifyInit);
  return () => unsubscribe('fastify.initialization', onFastifyInit);
}

// ---- Express -----------------------------------------------------------------

interface Layer {
  route?: object;
  handle?: { stack?: unknown };
  /** Express 5 (router 2.x): the path the layer was registered with. */
  rawPath?: unknown;
  /** Express 4: the compiled path and its parameter keys. */
  regexp?: RegExp;
  keys?: { name: string | number }[];
}

/** How to turn `req.baseUrl` into a template for one route object. */
type Prefix = { fixed: string } | { mounts: Layer[]; app?: string } | { literal: true };

const prefixes = new WeakMap<object, Prefix>();
const LITERAL: Prefix = { literal: true };

function expressRoute(req: Record<string, unknown>, route: { path?: unknown }): string {
  const path = typeof route.path === 'string' ? route.path : String(route.path);
  const base = req.baseUrl;
  if (typeof base !== 'string' || base === '') return path;
  let prefix = prefixes.get(route);
  if (prefix === undefined) {
    prefix = computePrefix(req, route);
    prefixes.set(route, prefix);
  }
  if ('fixed' in prefix) return prefix.fixed + path;
  if ('mounts' in prefix) {
    if (prefix.app === undefined) return templateFromRegexps(base, prefix.mounts) + path;
    // the sub-app's part of baseUrl has as many segments as its template
    const skip = prefix.app.split('/').length - 1;
    const rest = base.split('/').slice(skip + 1);
    return prefix.app + templateFromRegexps(rest.length ? `/${rest.join('/')}` : '', prefix.mounts) + path;
  }
  return base + path;
}

function computePrefix(req: Record<string, unknown>, route: object): Prefix {
  const app = req.app as Record<string, unknown> | undefined;
  // Express 4 keeps its router in `_router` (its `app.router` getter throws); Express 5 in `router`.
  const router = (app?._router ?? app?.router) as { stack?: unknown } | undefined;
  const mounts = Array.isArray(router?.stack) ? findMounts(router.stack as Layer[], route, [], 0) : undefined;
  // A sub-app (`app.use('/orgs/:org', subApp)`): Express keeps the pattern it was mounted
  // on in `mountpath`, and its parent app in `parent`.
  const appPrefix = subAppPrefix(app, 0);
  if (!mounts) return appPrefix === undefined ? LITERAL : { fixed: appPrefix };
  if (mounts.every((l) => typeof l.rawPath === 'string')) {
    return { fixed: (appPrefix ?? '') + mounts.map((l) => trimSlash(l.rawPath as string)).join('') };
  }
  if (mounts.length === 0 && appPrefix !== undefined) return { fixed: appPrefix };
  if (mounts.every((l) => l.regexp instanceof RegExp && Array.isArray(l.keys))) {
    if (appPrefix !== undefined) return { mounts, app: appPrefix };
    return mounts.some((l) => l.keys!.length > 0) ? { mounts } : LITERAL;
  }
  return LITERAL;
}

/** The mount patterns of a sub-app and its parents, or undefined for the top-level app. */
function subAppPrefix(app: Record<string, unknown> | undefined, depth: number): string | undefined {
  if (!app || !app.parent || depth > 8) return undefined;
  const own = typeof app.mountpath === 'string' ? trimSlash(app.mountpath) : undefined;
  if (own === undefined) return undefined; // several mount paths: not one template
  return (subAppPrefix(app.parent as Record<string, unknown>, depth + 1) ?? '') + own;
}

/** The chain of router layers under which `route` is registered (depth-first, bounded). */
function findMounts(stack: Layer[], route: object, chain: Layer[], depth: number): Layer[] | undefined {
  if (depth > 8) return undefined;
  for (const layer of stack) {
    if (layer.route === route) return chain;
    const inner = layer.handle?.stack;
    if (!layer.route && Array.isArray(inner)) {
      const found = findMounts(inner as Layer[], route, [...chain, layer], depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

/** Express 4: re-match each mount regexp against the rest of baseUrl, putting `:name` back for captures. */
function templateFromRegexps(base: string, mounts: Layer[]): string {
  let rest = base;
  let out = '';
  for (const layer of mounts) {
    const m = layer.regexp!.exec(rest);
    if (!m || m.index !== 0) return out + rest.replace(/\/[^/]+/g, '/:param'); // unexpected: never leak raw values
    let part = m[0];
    for (let i = 1; i < m.length; i++) {
      const value = m[i];
      const key = layer.keys![i - 1];
      if (value === undefined || key === undefined) continue;
      part = part.replace(`/${value}`, `/:${String(key.name)}`);
    }
    out += trimSlash(part);
    rest = rest.slice(m[0].length);
    if (rest !== '' && !rest.startsWith('/')) rest = `/${rest}`;
  }
  return out + rest;
}

function trimSlash(p: string): string {
  return p.endsWith('/') ? p.slice(0, -1) : p;
}
