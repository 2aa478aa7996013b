/**
 * The Dockerfile, checked without a Docker engine: what it copies exists and is not excluded by
 * .dockerignore, what it runs is in the package it lays out, its environment is made of options
 * the CLI knows, and its HEALTHCHECK command, run as written, tells a live proxy from a dead one.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, startCli, startTinyTei, type RunningCli, type TinyTei } from './harness.js';

const root = resolve(import.meta.dirname, '../..');

interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

/** Instructions in order, continuation lines joined and comments dropped; stage counts FROMs. */
function parseDockerfile(text: string): Instruction[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '');
  let stage = -1;
  return logical.map((line) => {
    const [, keyword = '', args = ''] = /^\s*(\w+)\s+(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') stage++;
    return { keyword: keyword.toUpperCase(), args: args.trim(), stage };
  });
}

/** .dockerignore patterns as regular expressions over context-relative paths. */
function ignoreMatchers(text: string): RegExp[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('!'))
    .map((pattern) => {
      const body = pattern
        .replace(/^\//, '')
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '\uE000')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/\uE000/g, '(?:.*/)?');
      return new RegExp(`^${body}(?:/.*)?$`);
    });
}

let instructions: Instruction[];
let ignored: RegExp[];
let upstream: TinyTei;
let proxy: RunningCli | undefined;

beforeAll(async () => {
  instructions = parseDockerfile(await readFile(join(root, 'Dockerfile'), 'utf8'));
  ignored = ignoreMatchers(await readFile(join(root, '.dockerignore'), 'utf8'));
  upstream = await startTinyTei(8);
});

afterAll(async () => {
  await proxy?.stop();
  await upstream?.close();
});

const lastStage = (): Instruction[] => {
  const last = Math.max(...instructions.map((instruction) => instruction.stage));
  return instructions.filter((instruction) => instruction.stage === last);
};

/** `KEY=value KEY2=value2` pairs of ENV instructions in the runtime stage. */
function runtimeEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const instruction of lastStage().filter((i) => i.keyword === 'ENV')) {
    for (const [, key, value] of instruction.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[key!] = value!.replace(/^"|"$/g, '');
  }
  return env;
}

function execForm(keyword: string): string[] {
  const instruction = lastStage().find((i) => i.keyword === keyword);
  expect(instruction, keyword).toBeDefined();
  const json = instruction!.args.slice(instruction!.args.indexOf('['));
  return JSON.parse(json) as string[];
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

describe('Dockerfile', () => {
  it('builds on node:24-slim in two stages and runs as a non-root user on port 3000', () => {
    const froms = instructions.filter((i) => i.keyword === 'FROM').map((i) => i.args);
    expect(froms).toEqual(['node:${NODE_VERSION}-slim AS build', 'node:${NODE_VERSION}-slim']);
    expect(instructions.find((i) => i.keyword === 'ARG')?.args).toBe('NODE_VERSION=24');
    const user = lastStage().find((i) => i.keyword === 'USER')?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(lastStage().find((i) => i.keyword === 'EXPOSE')?.args).toBe('3000');
    expect(runtimeEnv()).toMatchObject({ AUTOBATCH_HOST: '0.0.0.0', AUTOBATCH_PORT: '3000', AUTOBATCH_LOG_FORMAT: 'json' });
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    const sources = instructions
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) =>
        i.args
          .split(/\s+/)
          .filter((word) => !word.startsWith('--'))
          .slice(0, -1),
      );
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'tsconfig.json', 'bin', 'src']));
    for (const source of sources) {
      expect(existsSync(join(root, source)), source).toBe(true);
      expect(ignored.filter((pattern) => pattern.test(source)).map(String), `${source} is excluded by .dockerignore`).toEqual([]);
    }
  });

  it('starts a file that the npm package (laid out as /app) contains', async () => {
    const entrypoint = execForm('ENTRYPOINT');
    expect(entrypoint[0]).toBe('node');
    const script = entrypoint[1]!;
    expect(script.startsWith('/app/')).toBe(true);
    const pack = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
    expect(pack.code, pack.output).toBe(0);
    const [summary] = JSON.parse(pack.output.slice(pack.output.indexOf('['))) as { files: { path: string }[] }[];
    expect(summary!.files.map((file) => file.path)).toContain(script.slice('/app/'.length));
  });

  it('sets only AUTOBATCH_* variables that the CLI reads', async () => {
    const help = await run(process.execPath, [join(root, 'bin', 'autobatch.js'), '--help']);
    for (const name of Object.keys(runtimeEnv()).filter((key) => key.startsWith('AUTOBATCH_'))) {
      expect(help.output, name).toContain(name);
    }
  });

  it('has a HEALTHCHECK that passes against a running proxy and fails where none listens', async () => {
    // The proxy as the image starts it: the image's environment, on loopback and a free port here.
    proxy = await startCli(process.execPath, [join(root, 'bin', 'autobatch.js')], {
      env: { ...runtimeEnv(), AUTOBATCH_UPSTREAM: upstream.url, AUTOBATCH_HOST: '127.0.0.1', AUTOBATCH_PORT: '0' },
    });
    const port = new URL(proxy.url).port;

    expect(lastStage().find((i) => i.keyword === 'HEALTHCHECK')?.args).toMatch(/\bCMD \[/);
    const healthcheck = execForm('HEALTHCHECK');
    expect(healthcheck[0]).toBe('node');
    const [, ...nodeArgs] = healthcheck;
    const up = await run(process.execPath, nodeArgs, { env: { AUTOBATCH_PORT: port } });
    expect(up.code, up.output).toBe(0);
    const down = await run(process.execPath, nodeArgs, { env: { AUTOBATCH_PORT: String(await closedPort()) } });
    expect(down.code).toBe(1);
  });
});
