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
 * - Express 4 and 5 (zero config): `req.route.path`, prefixed by the routers and
 *   sub-apps the route is mounted under (see http-route-express.ts).
 */
import type { IncomingMessage } from 'node:http';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { diag } from '@opentelemetry/api';
import { expressRoute } from './http-route-express.js';
import { requestMarks } from '../src/own-traffic.js';

/** The route mark (see requestMarks for the flag that guards reading it). */
const kRoute = Symbol.for('otelkit.http.route');

/**
 * Sets the `http.route` template for a request on a plain node:http server (or
 * overrides what otelkit detected). Pass the template (`/users/:id`), never the raw path.
 */
export function setHttpRoute(req: IncomingMessage, route: string): void {
  if (req && typeof req === 'object' && typeof route === 'string') {
    requestMarks.used = true;
    (req as unknown as Record<symbol, string>)[kRoute] = route;
  }
}

/**
 * The route template of a finished request, or undefined when no route matched.
 * `status`: the response's (0 if none was sent).
 */
export function routeOf(req: IncomingMessage, status: number): string | undefined {
  const r = req as unknown as Record<symbol | string, unknown>;
  if (requestMarks.used) {
    const explicit = r[kRoute];
    if (typeof explicit === 'string') return explicit;
  }
  const route = r.route as { path?: unknown } | undefined | null;
  if (route && typeof route === 'object' && route.path !== undefined) return expressRoute(r, route, status);
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
      requestMarks.used = true;
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
