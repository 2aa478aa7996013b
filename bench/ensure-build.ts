/**
 * The benchmark scripts run the proxy as users do, from dist/ through bin/autobatch.js, and the
 * TEI simulator from dist-sim/, so both must exist and match their sources: a fresh clone has
 * neither, and a stale one would measure old code.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What the scripts run from dist/. */
const BUILT_ENTRY_POINTS = ['dist/cli/main.js', 'dist-sim/sim/main.js'];

/** The sources those are built from (the simulator also compiles what it imports of src/). */
const SOURCE_DIRECTORIES = ['src', 'sim'];

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

/** Whether the build under `root` lacks an entry point, or is older than some source file. */
export function buildState(root: string): BuildState {
  const entries = BUILT_ENTRY_POINTS.map((entry) => join(root, entry));
  if (!entries.every((entry) => existsSync(entry))) return 'missing';
  // tsc rewrites every output, so the oldest entry point dates the last build.
  const builtAt = Math.min(...entries.map((entry) => statSync(entry).mtimeMs));
  const newestSource = Math.max(
    ...SOURCE_DIRECTORIES.map((directory) => (existsSync(join(root, directory)) ? newestMtimeMs(join(root, directory)) : 0)),
  );
  return newestSource > builtAt ? 'stale' : 'fresh';
}

async function runBuild(root: string): Promise<boolean> {
  return (await runTsc(root, 'tsconfig.json')) && (await runTsc(root, 'sim/tsconfig.json'));
}

function runTsc(root: string, project: string): Promise<boolean> {
  return new Promise((resolve) => {
    // Compiler output goes to stderr so that stdout stays the report.
    const child = spawn(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', project], {
      cwd: root,
      stdio: ['ignore', 2, 2],
    });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

/**
 * Builds dist/ when it is missing or stale. A failed build is fatal when there is no dist/; with
 * a stale one the script goes on with what dist/ holds and says so (a source may be mid-edit).
 */
export async function ensureBuild(root: string, say: (line: string) => void): Promise<void> {
  const state = buildState(root);
  if (state === 'fresh') return;
  say(state === 'missing' ? 'the build is missing: building (npm run build)…' : 'the sources changed since the last build: rebuilding…');
  if (await runBuild(root)) return;
  if (buildState(root) === 'missing') throw new Error('the build failed (see above) and there is no dist/ to run');
  say('the build failed (see above); going on with what dist/ holds');
}
