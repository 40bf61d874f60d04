// The one command that sets up and tests a fresh machine: the README's
// Development section starts with it, it installs the Debian packages the tests
// need, and it never ends processes it did not start (by name).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const ci = readFileSync(new URL('.ci/run', root), 'utf8');
const readme = readFileSync(new URL('README.md', root), 'utf8');

describe('.ci/run', () => {
  it('ends no process by name', () => {
    expect(ci).not.toMatch(/\b(pkill|killall)\b/);
  });

  it('installs missing Debian packages the tests use, then runs npm ci, lint, typecheck and npm test', () => {
    expect(ci).toMatch(/apt-get update/);
    expect(ci).toMatch(/apt-get install -y --no-install-recommends [^\n]*\bprometheus\b/);
    expect(ci).toMatch(/apt-get install -y --no-install-recommends [^\n]*\bredis-server\b/);
    expect(ci).toMatch(/command -v redis-server/);
    const order = ['npm ci', 'npm run lint', 'npm run typecheck', 'npm test'].map((step) => ci.indexOf(step));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it("is the first command of the README's Development section", () => {
    const section = readme.slice(readme.indexOf('## Developing otelkit'));
    const firstCommand = /```sh\n([^\n]*)/.exec(section)?.[1];
    expect(firstCommand).toMatch(/^bash \.ci\/run\b/);
  });
});
