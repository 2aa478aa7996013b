/**
 * Tracing costs nothing when it is off because the OpenTelemetry SDK is never loaded: no module
 * the CLI or the library API loads at start imports it. This follows the static (runtime) imports
 * of src/ from both entry points, as TypeScript reads them; type-only imports vanish when compiled
 * and dynamic import() is the lazy path, so neither counts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const src = resolve(import.meta.dirname, '../../src');

/** Specifiers a file imports at run time, before any of its code runs. */
function staticImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const specifiers: string[] = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((element) => element.isTypeOnly)));
      if (!typeOnly) specifiers.push((statement.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier !== undefined && !statement.isTypeOnly) {
      specifiers.push((statement.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return specifiers;
}

/** Every file and package reached from `entry` through static imports. */
function loadedAtStart(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const specifier of staticImports(file)) {
      if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
        expect(existsSync(target), `${relative(src, file)} imports ${specifier}`).toBe(true);
        visit(target);
      } else {
        packages.add(specifier);
      }
    }
  };
  visit(entry);
  return { files, packages };
}

describe('the OpenTelemetry SDK loads only when tracing is on', () => {
  it.each(['cli/main.ts', 'index.ts'])('nothing loaded at start from src/%s imports it', (entry) => {
    const { files, packages } = loadedAtStart(join(src, entry));
    // Sanity: the walk does reach the proxy and the telemetry switch.
    expect(files).toContain(join(src, 'proxy.ts'));
    expect(files).toContain(join(src, 'telemetry', 'tracing.ts'));
    expect(files).not.toContain(join(src, 'telemetry', 'otel-tracing.ts'));
    expect([...packages].filter((name) => name.startsWith('@opentelemetry/'))).toEqual([]);
  });

  it('the SDK is where the lazy import leads', () => {
    const { packages } = loadedAtStart(join(src, 'telemetry', 'otel-tracing.ts'));
    expect([...packages].filter((name) => name.startsWith('@opentelemetry/')).sort()).toEqual([
      '@opentelemetry/api',
      '@opentelemetry/core',
      '@opentelemetry/exporter-trace-otlp-http',
      '@opentelemetry/resources',
      '@opentelemetry/sdk-trace-base',
    ]);
    expect(readFileSync(join(src, 'telemetry', 'tracing.ts'), 'utf8')).toContain("await import('./otel-tracing.js')");
  });
});
