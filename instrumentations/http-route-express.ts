/**
 * Express 4 and 5 route templates: `req.route.path`, prefixed by the routers and
 * sub-apps the route is mounted under.
 *
 * `req.baseUrl` holds the *matched* mount path (`/tenants/42`), so the prefix comes from
 * the mount layers instead: their registered path (`rawPath`, Express 5; read back from
 * the compiled regexp, Express 4), and for sub-apps their `mountpath`. Found once per
 * route object, by walking the app's router tree down to the route, and then the same
 * for every request. Express 4 mounts whose path cannot be read back are matched per
 * request, with the captured values put back as `:name`.
 *
 * Errors answered outside the router they came from (an app-level error middleware,
 * Express's final handler): Express restores `req.baseUrl`, and for a sub-app `req.app`,
 * on its way out of each router, while `req.route` stays the inner route. So a finish
 * with no `baseUrl` and a 4xx/5xx status is looked up too; a successful one is a
 * top-level route, as before, and costs nothing more. Express links a sub-app to its
 * parent but not the parent to its sub-apps (the mount layer only holds a closure), so
 * sub-apps are remembered when they answer a request themselves, and an error that
 * left one is found through them; until then it has the inner route only.
 */
type Dict = Record<string, unknown>;

interface Layer {
  route?: object;
  handle?: { stack?: unknown };
  /** Express 5 (router 2.x): the path the layer was registered with. */
  rawPath?: unknown;
  /** Express 4: the compiled path and its parameter keys. */
  regexp?: RegExp;
  keys?: { name: string | number }[];
}

/**
 * How to make a route's prefix: `fixed`, the template itself; `mounts`, Express 4
 * regexps matched against the request's path (`app`: the template of the sub-app they
 * are in); `literal`, `baseUrl` as is (the route is not under its app's router tree);
 * `miss`, an error from a route not found under the app that answered it, looked up
 * again once more sub-apps are known (the value: how many were known).
 */
type Prefix = { fixed: string } | Mounts | { literal: true } | { miss: number };
/** `literal`: no parameters, so `baseUrl` is the template while the request is inside the routers. */
type Mounts = { mounts: Mount[]; app?: string; literal?: boolean };
/** An Express 4 mount regexp, copied with the `d` flag (capture positions), and its parameter names. */
type Mount = { regexp: RegExp; names: (string | number)[] };

const prefixes = new WeakMap<object, Prefix>();
const LITERAL: Prefix = { literal: true };
/** Bounds every walk up or down an app's tree. */
const MAX_DEPTH = 8;

/** The full template of an Express route; `status`, the response's (0 if none was sent). */
export function expressRoute(req: Dict, route: { path?: unknown }, status: number): string {
  const path = typeof route.path === 'string' ? route.path : String(route.path);
  const baseUrl = req.baseUrl;
  let base: string;
  if (typeof baseUrl === 'string' && baseUrl !== '') base = baseUrl;
  // A top-level route; or an error answered after the routers were left (past the
  // app's own router, Express restores baseUrl to what it was before: undefined).
  else if (status < 400 || (baseUrl !== undefined && baseUrl !== '')) return path;
  else base = '';
  let prefix = prefixes.get(route);
  if (prefix === undefined) prefixes.set(route, (prefix = computePrefix(req, route, status)));
  if ('fixed' in prefix) return prefix.fixed + path;
  if ('mounts' in prefix) return (prefix.literal && status < 400 ? base : matchedPrefix(req, base, prefix)) + path;
  if ('literal' in prefix) return base + path;
  // A miss: a later success, or a newly known sub-app, may find it.
  if (status < 400 || prefix.miss !== subAppsKnown) {
    prefix = computePrefix(req, route, status);
    prefixes.set(route, prefix);
    if (!('miss' in prefix)) return expressRoute(req, route, status);
  }
  return base + path;
}

function computePrefix(req: Dict, route: object, status: number): Prefix {
  try {
    const app = req.app as Dict | undefined;
    if (app?.parent) rememberSubApp(app);
    const found = app && locate(app, route, 0);
    if (found) return prefixFrom(found.app, found.mounts);
    // An error answered outside the sub-app holding the route, not known yet; not
    // cached as `literal`, which a success of this route would then use.
    if (status >= 400) return { miss: subAppsKnown };
    const appPrefix = subAppPrefix(app, 0);
    return appPrefix === undefined ? LITERAL : { fixed: appPrefix };
  } catch {
    return status >= 400 ? { miss: subAppsKnown } : LITERAL;
  }
}

function prefixFrom(app: Dict, mounts: Layer[]): Prefix {
  // A sub-app (`app.use('/orgs/:org', subApp)`): Express keeps the pattern it was mounted
  // on in `mountpath`, and its parent app in `parent`.
  const appPrefix = subAppPrefix(app, 0);
  if (mounts.every((l) => typeof l.rawPath === 'string')) {
    return { fixed: (appPrefix ?? '') + mounts.map((l) => trimSlash(l.rawPath as string)).join('') };
  }
  if (mounts.every((l) => l.regexp instanceof RegExp && Array.isArray(l.keys))) {
    const paths = mounts.map(express4Path);
    if (paths.every((p) => p !== undefined)) return { fixed: (appPrefix ?? '') + paths.join('') };
    const matched = mounts.map(withIndices);
    if (appPrefix !== undefined) return { mounts: matched, app: appPrefix };
    return { mounts: matched, literal: !mounts.some((l) => l.keys!.length > 0) };
  }
  return LITERAL;
}

// ---- the app tree ------------------------------------------------------------

/** parent app -> the sub-apps seen answering requests under it. */
const subApps = new WeakMap<object, Dict[]>();
let subAppsKnown = 0;

function rememberSubApp(app: Dict): void {
  for (let child = app, depth = 0; depth < MAX_DEPTH; depth++) {
    const parent = child.parent as Dict | undefined;
    if (!parent || (typeof parent !== 'object' && typeof parent !== 'function')) return;
    let list = subApps.get(parent);
    if (list === undefined) subApps.set(parent, (list = []));
    if (list.includes(child)) return;
    list.push(child);
    subAppsKnown++;
    child = parent;
  }
}

/** The app holding `route` (this one or a known sub-app) and the router layers it is mounted under. */
function locate(app: Dict, route: object, depth: number): { app: Dict; mounts: Layer[] } | undefined {
  // Express 4 keeps its router in `_router` (its `app.router` getter throws); Express 5 in `router`.
  const router = (app._router ?? app.router) as { stack?: unknown } | undefined;
  const mounts = Array.isArray(router?.stack) ? findMounts(router.stack as Layer[], route, [], 0) : undefined;
  if (mounts) return { app, mounts };
  if (depth >= MAX_DEPTH) return undefined;
  for (const sub of subApps.get(app) ?? []) {
    const found = locate(sub, route, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** The mount patterns of a sub-app and its parents, or undefined for the top-level app. */
function subAppPrefix(app: Dict | undefined, depth: number): string | undefined {
  if (!app?.parent || depth > MAX_DEPTH) return undefined;
  const own = typeof app.mountpath === 'string' ? trimSlash(app.mountpath) : undefined;
  if (own === undefined) return undefined; // several mount paths: not one template
  return (subAppPrefix(app.parent as Dict, depth + 1) ?? '') + own;
}

/** The chain of router layers under which `route` is registered (depth-first, bounded). */
function findMounts(stack: Layer[], route: object, chain: Layer[], depth: number): Layer[] | undefined {
  if (depth > MAX_DEPTH) return undefined;
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

// ---- Express 4 mount regexps -------------------------------------------------

const LOOKAHEAD = '(?=\\/|$)';
const OPTIONAL_SLASH = '\\/?';
const PARAM = '(?:\\/([^/]+?))';
const PLAIN = /[\w~%!&',;=@-]/;

/**
 * The path an Express 4 mount was registered with, read back from the regexp
 * path-to-regexp 0.1 compiled it to (`/orgs/:org` -> `^\/orgs(?:\/([^/]+?))\/?(?=\/|$)`):
 * literal segments and `:name` parameters. Undefined for anything else (a regexp, an
 * array, a custom or optional parameter, a wildcard), which is matched per request.
 */
function express4Path(layer: Layer): string | undefined {
  const source = layer.regexp!.source;
  const keys = layer.keys!;
  if (!source.startsWith('^') || !source.endsWith(LOOKAHEAD)) return undefined;
  let end = source.length - LOOKAHEAD.length;
  if (source.startsWith(OPTIONAL_SLASH, end - OPTIONAL_SLASH.length)) end -= OPTIONAL_SLASH.length;
  let out = '';
  let used = 0;
  for (let i = 1; i < end; ) {
    if (source.startsWith(PARAM, i)) {
      const name = keys[used++]?.name;
      if (typeof name !== 'string') return undefined;
      out += `/:${name}`;
      i += PARAM.length;
    } else if (source[i] === '\\' && (source[i + 1] === '/' || source[i + 1] === '.')) {
      out += source[i + 1];
      i += 2;
    } else if (PLAIN.test(source[i]!)) {
      out += source[i];
      i += 1;
    } else {
      return undefined;
    }
  }
  return used === keys.length ? trimSlash(out) : undefined;
}

/**
 * The prefix from Express 4 mount regexps, matched against `baseUrl`, or against the
 * request's original path when the routers have been left (an error answered outside
 * them: `baseUrl` is shorter than the mounts).
 */
function matchedPrefix(req: Dict, base: string, prefix: Mounts): string {
  const fromBase = templateOf(base, prefix);
  if (fromBase !== undefined) return fromBase;
  const original = typeof req.originalUrl === 'string' ? pathOf(req.originalUrl) : '';
  return templateOf(original, prefix) ?? redact(base);
}

function templateOf(path: string, prefix: Mounts): string | undefined {
  if (prefix.app === undefined) return templateFromRegexps(path, prefix.mounts);
  // the sub-app's part of the path has as many segments as its template
  const skip = prefix.app.split('/').length - 1;
  const rest = path.split('/').slice(skip + 1);
  const inner = templateFromRegexps(rest.length ? `/${rest.join('/')}` : '', prefix.mounts);
  return inner === undefined ? undefined : prefix.app + inner;
}

function withIndices(layer: Layer): Mount {
  const { source, flags } = layer.regexp!;
  return { regexp: new RegExp(source, `${flags.replace(/[dgy]/g, '')}d`), names: layer.keys!.map((k) => k.name) };
}

/**
 * Re-matches each mount regexp against the rest of the path and puts `:name` in place
 * of each capture, by its position (a value can also occur in the literal part: `a` in
 * `/accounts/a`); undefined if a mount does not match.
 */
function templateFromRegexps(path: string, mounts: Mount[]): string | undefined {
  let rest = path;
  let out = '';
  for (const { regexp, names } of mounts) {
    const m = regexp.exec(rest);
    if (m?.index !== 0) return undefined;
    const whole = m[0];
    let part = '';
    let at = 0;
    for (let i = 1; i < m.length; i++) {
      const span = m.indices![i];
      const name = names[i - 1];
      // an optional part that did not match, or a group inside the previous capture
      if (span === undefined || name === undefined || span[0] < at) continue;
      part += `${whole.slice(at, span[0])}:${String(name)}`;
      at = span[1];
    }
    out += trimSlash(part + whole.slice(at));
    rest = rest.slice(whole.length);
    if (rest !== '' && !rest.startsWith('/')) rest = `/${rest}`;
  }
  return out;
}

/** The path of a request target: no query, no `http://host` (absolute form). */
function pathOf(url: string): string {
  let end = url.indexOf('?');
  if (end === -1) end = url.length;
  let start = 0;
  if (url[0] !== '/') {
    const scheme = url.indexOf('://');
    start = scheme === -1 ? 0 : url.indexOf('/', scheme + 3);
    if (start === -1 || start > end) return '';
  }
  return url.slice(start, end);
}

/** Unexpected: never leak raw values. */
function redact(path: string): string {
  return path.replace(/\/[^/]+/g, '/:param');
}

function trimSlash(p: string): string {
  return p.endsWith('/') ? p.slice(0, -1) : p;
}
