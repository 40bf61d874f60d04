// Instrumentations must not change what the caller sees: the same resolved value,
// the same rejection reason, and a rejection the app never handles still surfaces
// as `unhandledRejection` (a handler on the caller's promise would swallow it).
import { describe, expect, it } from 'vitest';
import { startChild, stopAll } from '../helpers/child.js';
import { afterEach } from 'vitest';

afterEach(() => stopAll());

describe.each(['cache', 'limiter', 'breaker', 'queue', 'timed', 'measure'])(
  '%s instrumentation and async results',
  (subject) => {
    it('keeps values, reasons and unhandled rejections', async () => {
      const child = startChild({ args: ['test/fixtures/unhandled-rejection.mjs', subject] });
      const result = await child.waitForJson(undefined, 15_000);
      expect(result).toEqual({ value: 'v', sameReason: true, unhandledSurfaced: true });
    });
  },
);
