// The host detector's attributes join the resource at the first export, not at start-up;
// what the resource itself sets (configured attributes) wins over them.
import { hostname } from 'node:os';
import { describe, expect, it, vi } from 'vitest';

describe('host attributes', () => {
  it('are absent until the first export detects them; then every export has them; configured ones win', async () => {
    vi.resetModules();
    const { buildResource, withHostAttributes, withHostAttributesNow } = await import('../../src/resource.js');
    const plain = buildResource({});
    const configured = buildResource({ 'host.name': 'configured-host' });
    expect(plain.attributes).not.toHaveProperty('host.name');
    // the export at exit, before any export detected them: the resource as it is
    expect(withHostAttributesNow(plain)).toBe(plain);

    const detected = await withHostAttributes(plain);
    expect(detected.attributes['host.name']).toBe(hostname());
    expect(typeof detected.attributes['host.arch']).toBe('string');
    expect(detected.attributes['service.instance.id']).toBe(plain.attributes['service.instance.id']);
    expect(withHostAttributesNow(plain)).toBe(detected); // once detected, the exit export has them too
    expect((await withHostAttributes(configured)).attributes['host.name']).toBe('configured-host');
  });
});
