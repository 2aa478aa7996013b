/**
 * No module of src/ or sim/ imports itself through others. Why a test: a circle between two files
 * (routes/list-rule.ts and routes/tei-input.ts had one) means neither can be read, tested or moved
 * alone, and ES modules then see a half-initialised binding depending on which file loads first.
 * Type-only imports count too: they tie the files together for a reader just the same.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Relative imports of every .ts file under `dir`, as repository paths. */
function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const entry of readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })) {
    if (!entry.endsWith('.ts') || entry.split('/').includes('test')) continue;
    const file = join(dir, entry);
    const text = readFileSync(join(root, file), 'utf8');
    const targets = [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'(\.{1,2}\/[^']+)'/gms)].map((match) =>
      normalize(join(dirname(file), match[1]!.replace(/\.js$/, '.ts'))),
    );
    graph.set(normalize(file), targets);
  }
  return graph;
}

/** Every circle found by a depth-first walk, each written as a path a -> b -> a. */
export function importCircles(graph: Map<string, string[]>): string[] {
  const circles: string[] = [];
  const done = new Set<string>();
  const walk = (file: string, path: string[]): void => {
    for (const next of graph.get(file) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) circles.push([...path.slice(at), next].join(' -> '));
      else if (!done.has(next)) walk(next, [...path, next]);
    }
    done.add(file);
  };
  for (const file of graph.keys()) if (!done.has(file)) walk(file, [file]);
  return circles;
}

describe('imports', () => {
  it('finds a circle when there is one (the check can fail)', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['a.ts']],
    ]);
    expect(importCircles(graph)).toEqual(['a.ts -> b.ts -> a.ts']);
  });

  it.each(['src', 'sim'])('no module of %s/ imports itself through others', (dir) => {
    const graph = importGraph(dir);
    expect(graph.size).toBeGreaterThan(10);
    expect(importCircles(graph).map((circle) => relative('.', circle))).toEqual([]);
  });
});
