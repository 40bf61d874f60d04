// Each process gets its own service.instance.id (workers exporting OTLP themselves
// must not look like one instance), unless one is configured.
import { describe, expect, it } from 'vitest';
import { buildResource, randomInstanceId } from '../../src/resource.js';

describe('service.instance.id', () => {
  it('is a fresh UUID per resource built (one per process), and a configured one wins', () => {
    const a = buildResource({}).attributes['service.instance.id'];
    const b = buildResource({}).attributes['service.instance.id'];
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(b).not.toBe(a);
    expect(buildResource({ 'service.instance.id': 'pod-7' }).attributes['service.instance.id']).toBe('pod-7');
  });

  it('is a version-4 UUID with its version and variant bits, 10 000 distinct in a row', () => {
    const ids = Array.from({ length: 10_000 }, randomInstanceId);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
