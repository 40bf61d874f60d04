// Readiness checks: run concurrently, each within its own timeout; a check that hangs,
// throws, rejects or returns false fails with a one-line reason; only critical
// failures fail readiness; concurrent runs share one.
import { afterEach, describe, expect, it } from 'vitest';
import { addHealthCheck, runHealthChecks } from '../../src/health/checks.js';

const removers: (() => void)[] = [];
const add = (...args: Parameters<typeof addHealthCheck>) => removers.push(addHealthCheck(...args));
afterEach(() => {
  for (const remove of removers.splice(0)) remove();
});

describe('addHealthCheck', () => {
  it('passes with no checks', async () => {
    expect(await runHealthChecks()).toEqual({ status: 'pass', checks: {} });
  });

  it('passes when every check resolves to anything but false', async () => {
    add('sync', () => undefined);
    add('async', async () => ({ connections: 3 }));
    const readiness = await runHealthChecks();
    expect(readiness.status).toBe('pass');
    expect(Object.keys(readiness.checks)).toEqual(['sync', 'async']);
    for (const check of Object.values(readiness.checks)) {
      expect(check).toMatchObject({ status: 'pass', critical: true });
      expect(check.durationMs).toBeGreaterThanOrEqual(0);
      expect(check.error).toBeUndefined();
    }
  });

  it('fails a check that hangs past its timeout, throws, rejects or returns false, each with its reason', async () => {
    add('hangs', () => new Promise(() => {}), { timeout: 50 });
    add('throws', () => {
      throw new Error('connection refused\n    at stack line');
    });
    add('rejects', () => Promise.reject(new Error('pool exhausted')));
    add('false', () => false);
    add('fine', () => true);
    const { status, checks } = await runHealthChecks();
    expect(status).toBe('fail');
    expect(checks.hangs).toMatchObject({ status: 'fail', error: 'timed out after 50 ms' });
    expect(checks.hangs!.durationMs).toBeGreaterThanOrEqual(45);
    expect(checks.throws).toMatchObject({ status: 'fail', error: 'connection refused' });
    expect(checks.rejects).toMatchObject({ status: 'fail', error: 'pool exhausted' });
    expect(checks.false).toMatchObject({ status: 'fail', error: 'returned false' });
    expect(checks.fine).toMatchObject({ status: 'pass' });
  });

  it('runs checks concurrently: two checks of 150 ms take one wait, not two', async () => {
    const order: string[] = [];
    const slow = (name: string) => () =>
      new Promise<void>((resolve) => {
        order.push(`start ${name}`);
        setTimeout(() => {
          order.push(`end ${name}`);
          resolve();
        }, 150);
      });
    add('a', slow('a'));
    add('b', slow('b'));
    await runHealthChecks();
    // both started before either ended
    expect(order.slice(0, 2).sort()).toEqual(['start a', 'start b']);
  });

  it('stays ready when only a non-critical check fails', async () => {
    add('cache', () => false, { critical: false });
    add('db', () => true);
    const readiness = await runHealthChecks();
    expect(readiness.status).toBe('pass');
    expect(readiness.checks.cache).toMatchObject({ status: 'fail', critical: false, error: 'returned false' });
  });

  it('shares one run between concurrent callers', async () => {
    let calls = 0;
    add('counted', async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
    });
    const runs = await Promise.all(Array.from({ length: 10 }, () => runHealthChecks()));
    expect(calls).toBe(1);
    expect(new Set(runs).size).toBe(1);
    await runHealthChecks();
    expect(calls).toBe(2);
  });

  it('replaces a check of the same name, and the remover removes it', async () => {
    add('x', () => false);
    const remove = addHealthCheck('x', () => true);
    expect((await runHealthChecks()).checks.x!.status).toBe('pass');
    remove();
    expect((await runHealthChecks()).checks.x).toBeUndefined();
  });
});
