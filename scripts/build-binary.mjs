#!/usr/bin/env node
/**
 * Builds dist/autobatch: one executable file holding Node.js and the whole CLI, made with
 * Node's Single Executable Applications (SEA). Nothing is downloaded: the Node.js inside is a
 * copy of the one running this script, so run it with the Node version the binary should carry
 * (`/path/to/node24/bin/node scripts/build-binary.mjs`). Expects `npm run build` to have run
 * (`npm run build:binary` does both).
 *
 * Steps: esbuild bundles bin/autobatch.js and everything it imports into one CommonJS file (a SEA
 * runs one CommonJS script, whose require() sees only Node's built-in modules); node turns it
 * into a SEA blob; postject writes the blob into a copy of node and flips the SEA fuse.
 *
 *   node scripts/build-binary.mjs [--out dist/autobatch] [--no-strip]
 */
import { execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** Node's published sentinel: postject flips it so the binary looks for its blob at start. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * Optional packages that dependencies try to load and do without when they are missing, as they
 * are in an npm install of autobatch (they are not among its dependencies). In the bundle they
 * are stubbed to fail the same way, because a SEA's require() can load only Node's built-ins:
 * - supports-color: `debug` (under http-proxy-3) picks 256 colours with it, inside a try.
 * - vega-canvas: vega's chart renderer (`autobatch bench`) loads the native `canvas` package
 *   through it with a top-level await, which a CommonJS bundle cannot hold. Its browser build is
 *   the same module without that attempt: the SVG renderer needs no canvas.
 */
const absentOptionalPackages = {
  name: 'absent-optional-packages',
  setup(build) {
    build.onResolve({ filter: /^supports-color$/ }, (args) => ({ path: args.path, namespace: 'absent' }));
    build.onLoad({ filter: /.*/, namespace: 'absent' }, (args) => ({
      contents: `const e = new Error(${JSON.stringify(`Cannot find module '${args.path}'`)}); e.code = 'MODULE_NOT_FOUND'; throw e;`,
      loader: 'js',
    }));
    build.onResolve({ filter: /^vega-canvas$/ }, (args) => {
      const nodeBuild = createRequire(join(args.resolveDir, 'importer.js')).resolve('vega-canvas');
      return { path: join(dirname(nodeBuild), 'vega-canvas.browser.js') };
    });
  },
};

/**
 * A SEA's script cannot use import() at all (Node has no module loader for it: "A dynamic import
 * callback was not specified"), and esbuild leaves import() of a built-in as it is. The OTLP
 * exporter loads node:http and node:https that way when it sends its first spans, so in the
 * binary those imports become require()s of the same built-ins (what import() would resolve
 * to: the exporter only takes named exports from them). Any other import() left in the bundle
 * fails the build, below.
 */
const builtinDynamicImports = {
  name: 'builtin-dynamic-imports',
  setup(build) {
    build.onLoad({ filter: /[\\/]@opentelemetry[\\/]otlp-exporter-base[\\/].*\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const contents = source.replace(/\bimport\((['"])((?:node:)?[a-z_]+)\1\)/g, (whole, quote, id) =>
        isBuiltin(id) ? `Promise.resolve().then(() => require(${quote}${id}${quote}))` : whole,
      );
      return { contents, loader: 'js' };
    });
  },
};

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: join(root, 'dist', 'autobatch') },
    strip: { type: 'boolean', default: true },
  },
  allowNegative: true,
});

async function main() {
  // macOS and Windows need their code signatures removed and redone around the injection
  // (codesign, signtool), which this script does not do and nobody here could test.
  if (process.platform !== 'linux') throw new Error(`building the binary is supported on Linux only, not ${process.platform}`);
  const out = resolve(args.out);
  const cli = join(root, 'dist', 'cli', 'main.js');
  await stat(cli).catch(() => {
    throw new Error(`${cli} is missing: run \`npm run build\` first (or \`npm run build:binary\`)`);
  });

  const work = await mkdtemp(join(tmpdir(), 'autobatch-sea-'));
  try {
    const bundle = join(work, 'autobatch.cjs');
    const blob = join(work, 'autobatch.blob');
    const seaConfig = join(work, 'sea-config.json');

    const result = await build({
      entryPoints: [join(root, 'bin', 'autobatch.js')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: `node${process.versions.node.split('.')[0]}`,
      plugins: [absentOptionalPackages, builtinDynamicImports],
      // Whitespace and syntax only: identifiers stay readable in logged stack traces.
      minifyWhitespace: true,
      minifySyntax: true,
      legalComments: 'eof',
      logLevel: 'warning',
      metafile: true,
    });
    if (result.warnings.length > 0) {
      // A warning here (an import.meta, a require of a computed path) means something would look
      // for a file at run time that the binary does not have.
      throw new Error(`esbuild warned ${result.warnings.length} time(s): fix them before shipping a binary`);
    }
    // esbuild leaves a require() it cannot resolve inside a try as is; in a SEA it would fail.
    // A `node:` id is always a built-in, even one newer than this Node (undici's node:sqlite).
    const notBuiltIn = Object.values(result.metafile.outputs)
      .flatMap((output) => output.imports)
      .filter((imported) => imported.external && !imported.path.startsWith('node:') && !isBuiltin(imported.path))
      .map((imported) => imported.path);
    if (notBuiltIn.length > 0) {
      throw new Error(`the bundle would load these from disk at run time: ${[...new Set(notBuiltIn)].join(', ')}`);
    }
    // The import()s of the proxy's own lazy modules are bundled (esbuild turns them into calls);
    // one left as import() would throw inside the binary the first time it runs.
    const dynamicImports = Object.values(result.metafile.outputs)
      .flatMap((output) => output.imports)
      .filter((imported) => imported.kind === 'dynamic-import' && imported.external)
      .map((imported) => imported.path);
    if (dynamicImports.length > 0) {
      throw new Error(`the bundle keeps import() of ${[...new Set(dynamicImports)].join(', ')}, which a single executable cannot run`);
    }

    // The CLI's hashbang line is not valid inside the function SEA wraps its script in.
    const code = await readFile(bundle, 'utf8');
    await writeFile(bundle, code.replace(/^#!.*\n/, ''));

    await writeFile(
      seaConfig,
      JSON.stringify({
        main: bundle,
        output: blob,
        disableExperimentalSEAWarning: true,
        // V8's compiled code, stored in the blob: the CLI starts without parsing the bundle.
        useCodeCache: true,
      }),
    );
    execFileSync(process.execPath, ['--experimental-sea-config', seaConfig], { stdio: ['ignore', 'ignore', 'inherit'] });

    await mkdir(dirname(out), { recursive: true });
    await rm(out, { force: true });
    await copyFile(process.execPath, out);
    await chmod(out, 0o755);
    if (args.strip) stripSymbols(out);

    const { inject } = require('postject');
    console.log('injecting the blob (postject\'s "Can\'t find string offset for section name" warnings are harmless)');
    await inject(out, 'NODE_SEA_BLOB', await readFile(blob), { sentinelFuse: SEA_FUSE });

    const version = execFileSync(out, ['--version'], { encoding: 'utf8' }).trim();
    const expected = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).version;
    if (version !== expected) throw new Error(`${out} --version printed "${version}", expected ${expected}`);

    const size = (await stat(out)).size;
    const bundleSize = (await stat(bundle)).size;
    console.log(
      `${out}: ${(size / 2 ** 20).toFixed(1)} MiB (Node.js ${process.version}, bundle ${(bundleSize / 2 ** 10).toFixed(0)} KiB), autobatch ${version}`,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Node's release binaries carry their symbol table and some debug information (about 13 MB).
 * Removing them changes nothing at run time: the dynamic symbol table, which native addons link
 * against, stays. Skipped, with a note, where binutils' strip is not installed.
 */
function stripSymbols(file) {
  try {
    execFileSync('strip', [file], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    if (error.code === 'ENOENT') {
      console.warn('strip not found: the binary keeps Node.js debug symbols (install binutils for a smaller file)');
      return;
    }
    throw error;
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
