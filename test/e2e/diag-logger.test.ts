// otelkit's diag logger and the app's own: a logger the app registered is kept,
// and replacing otelkit's (the preload's) later prints no warning of otelkit's.
import { afterEach, describe, expect, it } from 'vitest';
import { startChild, stopAll } from '../helpers/child.js';

afterEach(() => stopAll());

async function run(mode: string, preload = false) {
  const child = startChild({
    args: [...(preload ? ['--import', 'otelkit/register'] : []), 'test/fixtures/diag-logger.mjs', mode],
  });
  const line = await child.waitForLine(/^\{"seen"/, 15_000);
  await child.exited;
  return { seen: (JSON.parse(line) as { seen: string[] }).seen, stderr: child.stderr };
}

describe('diag logger', () => {
  it('an app logger registered before register() stays, with its level', async () => {
    const { seen, stderr } = await run('app-first');
    expect(seen).toEqual(['warn probe-warning', 'warn Error: probe-error-object', 'info probe-info']);
    expect(stderr).not.toContain('probe');
  });

  it('without one, otelkit logs to the console at OTEL_LOG_LEVEL (default warn)', async () => {
    const { seen, stderr } = await run('none');
    expect(seen).toEqual([]);
    expect(stderr).toContain('probe-warning');
    expect(stderr).toContain('probe-error-object');
    expect(stderr).not.toContain('probe-info');
  });

  it("an app logger set after the preload's replaces otelkit's without a warning from otelkit's", async () => {
    const { seen, stderr } = await run('app-later', true);
    expect(seen).toContain('warn probe-warning');
    expect(seen).toContain('info probe-info');
    expect(stderr).not.toContain('probe');
    expect(stderr).not.toContain('Current logger will be overwritten');
  });
});
