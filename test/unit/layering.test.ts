// Dependencies point one way: instrumentations/ builds on the core in src/, and
// src/ reaches instrumentations/ through one registry file only (it starts the default
// instrumentations); the package entry, index.ts at the root, exports both APIs.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const REGISTRY = 'src/instrumentations.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** Relative specifiers of static imports/exports, dynamic import() and require(), resolved to repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm),
  ].map((m) => m[1]!);
  return specifiers.map((s) => relative(root, resolve(root, dirname(file), s)).replace(/\.js$/, '.ts'));
}

describe('layering', () => {
  it(`no file under src/ but ${REGISTRY} imports from instrumentations/`, () => {
    const importing = sourceFiles('src').filter((file) =>
      importsOf(file).some((target) => target.startsWith('instrumentations/')),
    );
    // Exactly the registry: also proves the scan sees its imports.
    expect(importing).toEqual([REGISTRY]);
  });

  it('src/ has no import cycles', () => {
    const files = new Set(sourceFiles('src'));
    const edges = new Map([...files].map((f) => [f, importsOf(f).filter((t) => files.has(t))]));
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'visiting');
      for (const next of edges.get(file)!) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
