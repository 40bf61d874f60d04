/**
 * Resource: SDK defaults + the process detector, then the app's package.json
 * name/version, a random service.instance.id, then configured attributes
 * (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME). The host detector's attributes
 * join at the first export (withHostAttributes), not at start-up.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  defaultResource,
  detectResources,
  hostDetector,
  processDetector,
  resourceFromAttributes,
  type Resource,
  type ResourceDetector,
} from '@opentelemetry/resources';

/**
 * The SDK's process detector minus the command line: argv can carry secrets, and
 * target_info is served on a scrape endpoint that has no token by default.
 */
const processWithoutArgs: ResourceDetector = {
  detect(config) {
    const detected = processDetector.detect(config);
    const { 'process.command_args': _args, 'process.command_line': _line, ...attributes } = detected.attributes ?? {};
    return { ...detected, attributes };
  },
};

export function buildResource(configured: Record<string, string>): Resource {
  return (
    defaultResource()
      .merge(detectResources({ detectors: [processWithoutArgs] }))
      .merge(resourceFromAttributes(appPackageAttributes()))
      // One per process unless configured: cluster workers and replicas that export OTLP
      // themselves must not look like one instance to the backend (semantic conventions).
      .merge(resourceFromAttributes({ 'service.instance.id': randomInstanceId() }))
      .merge(resourceFromAttributes(configured))
  );
}

let host: Promise<Resource> | undefined;
let hostSettled: Resource | undefined;
const withHost = new WeakMap<Resource, Resource>();

/**
 * `resource` with the host detector's attributes (host.name, host.arch, host.id) under it:
 * what `resource` sets wins. Detected once, on the first call: reading the machine id
 * loads modules (fs/promises, and a child process on some platforms) that a process
 * would otherwise load at every start, whether or not anything is ever exported.
 */
export async function withHostAttributes(resource: Resource): Promise<Resource> {
  host ??= (async () => {
    const detected = detectResources({ detectors: [hostDetector] });
    await detected.waitForAsyncAttributes?.();
    return (hostSettled = detected);
  })();
  await host;
  return withHostAttributesNow(resource);
}

/** The same, synchronously (the export at exit): `resource` as it is when no export has detected them yet. */
export function withHostAttributesNow(resource: Resource): Resource {
  if (!hostSettled) return resource;
  let merged = withHost.get(resource);
  if (!merged) withHost.set(resource, (merged = hostSettled.merge(resource)));
  return merged;
}

/** service.name/version from the nearest package.json above the main script (or cwd). */
function appPackageAttributes(): Record<string, string> {
  const start = process.argv[1] ? dirname(resolve(process.argv[1])) : process.cwd();
  for (let dir = start; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      const out: Record<string, string> = {};
      if (typeof pkg.name === 'string' && pkg.name) out['service.name'] = pkg.name;
      if (typeof pkg.version === 'string' && pkg.version) out['service.version'] = pkg.version;
      if (out['service.name']) return out;
    } catch {
      // no (readable) package.json here: keep walking up
    }
    if (dirname(dir) === dir) return {};
  }
}

/**
 * A random version-4 UUID. Math.random, not node:crypto: loading node:crypto was a
 * measurable part of the preload's start-up, and an instance id needs to be unique,
 * not secret (V8 seeds Math.random from the system's entropy source per isolate).
 */
export function randomInstanceId(): string {
  const hex = (digits: number): string => {
    let out = '';
    for (let i = 0; i < digits; i++) out += Math.floor(Math.random() * 16).toString(16);
    return out;
  };
  const variant = (8 + Math.floor(Math.random() * 4)).toString(16);
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${variant}${hex(3)}-${hex(12)}`;
}
