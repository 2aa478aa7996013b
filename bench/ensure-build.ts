/**
 * The benchmark scripts run the proxy as users do, from dist/ through bin/autobatch.js, so dist/
 * must exist and match src/: a fresh clone has no dist/, and a stale one would measure old code.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What the scripts run from dist/. */
const BUILT_ENTRY_POINTS = ['dist/cli/main.js', 'dist/tei-sim/main.js'];

export type BuildState = 'missing' | 'stale' | 'fresh';

function newestMtimeMs(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtimeMs(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Whether dist/ under `root` lacks an entry point, or is older than some file in src/. */
export function buildState(root: string): BuildState {
  const entries = BUILT_ENTRY_POINTS.map((entry) => join(root, entry));
  if (!entries.every((entry) => existsSync(entry))) return 'missing';
  // tsc rewrites every output, so the oldest entry point dates the last build.
  const builtAt = Math.min(...entries.map((entry) => statSync(entry).mtimeMs));
  return newestMtimeMs(join(root, 'src')) > builtAt ? 'stale' : 'fresh';
}

function runTsc(root: string): Promise<boolean> {
  return new Promise((resolve) => {
    // Compiler output goes to stderr so that stdout stays the report.
    const child = spawn(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
      cwd: root,
      stdio: ['ignore', 2, 2],
    });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

/**
 * Builds dist/ when it is missing or stale. A failed build is fatal when there is no dist/; with
 * a stale one the script goes on with what dist/ holds and says so (src/ may be mid-edit).
 */
export async function ensureBuild(root: string, say: (line: string) => void): Promise<void> {
  const state = buildState(root);
  if (state === 'fresh') return;
  say(state === 'missing' ? 'dist/ is missing: building (npm run build)…' : 'src/ changed since the last build: rebuilding…');
  if (await runTsc(root)) return;
  if (buildState(root) === 'missing') throw new Error('the build failed (see above) and there is no dist/ to run');
  say('the build failed (see above); going on with what dist/ holds');
}
