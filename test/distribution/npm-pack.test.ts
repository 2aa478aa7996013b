/**
 * The npm package as users get it: `npm pack` of this checkout, installed from the tarball into
 * an empty folder (dependencies from the registry), then `npx autobatch` there. Expects dist/ to
 * be built (`npm test` builds it first).
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { cleanUp, expectOneBatchOfFour, ONE_CALL_AT_A_TIME, run, startCli, startTinyTei, type RunningCli, type TinyTei } from './harness.js';

const root = resolve(import.meta.dirname, '../..');
let work: string;
let app: string;
let packed: string[];
let upstream: TinyTei;
const running: RunningCli[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'autobatch-pack-test-'));
  // --ignore-scripts: dist/ is already built, and `prepare` rebuilding it here would race the
  // other tests that read it.
  const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root });
  expect(pack.code, pack.output).toBe(0);
  const [summary] = JSON.parse(pack.output.slice(pack.output.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  packed = summary!.files.map((file) => file.path);

  app = join(work, 'app');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'someone-elses-app', private: true }));
  const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, summary!.filename)], { cwd: app });
  expect(install.code, install.output).toBe(0);
  upstream = await startTinyTei(4);
}, 120_000);

afterAll(() => cleanUp(running, upstream, work));

describe('npm package', () => {
  it('holds what runs and nothing else', () => {
    expect(packed).toContain('bin/autobatch.js');
    expect(packed).toContain('dist/cli/main.js');
    expect(packed).toContain('dist/index.js');
    expect(packed).toContain('dist/index.d.ts');
    // `autobatch bench` is a shipped subcommand.
    expect(packed.some((path) => path.startsWith('dist/loadgen/'))).toBe(true);
    expect(packed.filter((path) => path.endsWith('.map'))).toEqual([]);
    expect(packed.filter((path) => /^(src|sim|dist-sim|test|bench|scripts|examples)\//.test(path))).toEqual([]);
    expect(packed).not.toContain('dist/autobatch');
  });

  it('leaves out no file that a shipped module imports', async () => {
    const shipped = new Set(packed);
    const missing: string[] = [];
    for (const path of packed.filter((file) => file.endsWith('.js'))) {
      const source = await readFile(join(root, path), 'utf8');
      const specifiers = [...source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((match) => match[1]!);
      for (const specifier of specifiers) {
        const target = normalize(join(dirname(path), specifier));
        if (!shipped.has(target)) missing.push(`${path} -> ${specifier}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('runs as `npx autobatch` where it is installed', async () => {
    const version = await run('npx', ['--no-install', 'autobatch', '--version'], { cwd: app });
    expect(version.code, version.output).toBe(0);
    expect(version.output.trim()).toBe(VERSION);
    const help = await run('npx', ['--no-install', 'autobatch', '--help'], { cwd: app });
    expect(help.code, help.output).toBe(0);
    expect(help.output).toContain('--upstream <url>');
    expect(help.output).toContain('--max-wait-ms <ms>');
  });

  it('batches concurrent requests through the installed CLI', async () => {
    const installedBin = join(app, 'node_modules', '.bin', 'autobatch');
    const cli = await startCli(installedBin, ['--host', '127.0.0.1', '--port', '0', '--log-format', 'json', ...ONE_CALL_AT_A_TIME], {
      cwd: app,
      env: { AUTOBATCH_UPSTREAM: upstream.url },
    });
    running.push(cli);
    await expectOneBatchOfFour(cli.url, upstream);
    expect(await cli.stop()).toBe(0);
  });

  it('works as a library: startProxy from the installed package', async () => {
    const script = [
      "import { startProxy } from 'autobatch';",
      `const proxy = await startProxy({ upstream: ${JSON.stringify(upstream.url)}, host: '127.0.0.1', port: 0, maxWaitMs: 1 });`,
      "const response = await fetch(proxy.url + '/embed', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: ['xyz'] }) });",
      "console.log(JSON.stringify({ status: response.status, body: await response.json(), batch: response.headers.get('x-autobatch-batch-size') }));",
      'await proxy.close();',
    ].join('\n');
    await writeFile(join(app, 'use-library.mjs'), script);
    const result = await run(process.execPath, ['use-library.mjs'], { cwd: app, env: { NODE_OPTIONS: '' } });
    expect(result.code, result.output).toBe(0);
    const lastLine = result.output.trim().split('\n').at(-1)!;
    expect(JSON.parse(lastLine)).toEqual({ status: 200, body: [[3, 'x'.charCodeAt(0)]], batch: '1' });
  });
});
