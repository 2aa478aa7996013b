/**
 * docker-compose.yml and its GPU override, checked offline by Compose itself (`config` parses,
 * validates against the Compose schema and resolves the files; no engine needed), then the
 * resolved result read for what autobatch relies on. Skipped where neither `docker compose` nor
 * `docker-compose` is installed (.ci/run installs Debian's docker-compose).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const BASE = join(root, 'docker-compose.yml');
const GPU = join(root, 'docker-compose.gpu.yml');

/** The Compose command line available here: the v2 plugin first, else v1's docker-compose. */
function findCompose(): string[] | undefined {
  const plugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  if (plugin.status === 0) return ['docker', 'compose'];
  const standalone = spawnSync('docker-compose', ['--version'], { encoding: 'utf8' });
  if (standalone.status === 0) return ['docker-compose'];
  return undefined;
}

const compose = findCompose();

function config(files: string[], extra: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const [command, ...prefix] = compose!;
  const env = { ...process.env };
  delete env.TEI_MODEL_ID;
  const result = spawnSync(command!, [...prefix, '--project-directory', root, ...files.flatMap((file) => ['-f', file]), 'config', ...extra], {
    encoding: 'utf8',
    cwd: root,
    env,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The lines of one service in `config`'s YAML output (two-space indented under services:). */
function serviceBlock(yaml: string, name: string): string {
  const match = new RegExp(`^  ${name}:\\n((?:    .*\\n|\\s*\\n)*)`, 'm').exec(yaml);
  expect(match, `service ${name} in:\n${yaml}`).not.toBeNull();
  return match![1]!;
}

describe.skipIf(compose === undefined)(`docker compose files (${compose?.join(' ') ?? 'no compose tool installed'})`, () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'autobatch-compose-test-'));
  });
  afterAll(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('CPU: TEI with its model cache and health check, autobatch built here and waiting for TEI', () => {
    const result = config([BASE]);
    expect(result.status, result.stderr).toBe(0);
    expect(config([BASE], ['--services']).stdout.trim().split('\n').sort()).toEqual(['autobatch', 'tei']);

    const tei = serviceBlock(result.stdout, 'tei');
    expect(tei).toContain('image: ghcr.io/huggingface/text-embeddings-inference:cpu-');
    expect(tei).toMatch(/- --model-id\n\s+- nomic-ai\/nomic-embed-text-v1\.5\n/);
    expect(tei).toMatch(/- tei-data:\/data/);
    expect(tei).toMatch(/healthcheck:[\s\S]*http:\/\/127\.0\.0\.1:80\/health/);

    const autobatch = serviceBlock(result.stdout, 'autobatch');
    expect(autobatch).toMatch(/build:\n\s+context: /);
    expect(autobatch).toContain('AUTOBATCH_UPSTREAM: http://tei:80');
    // No hand tuning: the dispatch policy learns TEI (docs/dispatch.md), so no dispatch value is pinned.
    expect(autobatch).not.toMatch(/AUTOBATCH_(MAX_INFLIGHT|BUCKET_BY_LENGTH|MAX_BATCH_SIZE|MAX_WAIT_MS):/);
    expect(autobatch).toMatch(/depends_on:\n\s+tei:\n\s+condition: service_healthy/);
    // v1 and v2 print ports in different orders: look for both halves.
    expect(autobatch).toMatch(/published: "?3000"?\n/);
    expect(autobatch).toMatch(/target: 3000\n/);
  });

  it('GPU: the same services, TEI on a CUDA image with the host GPUs reserved', () => {
    const result = config([BASE, GPU]);
    expect(result.status, result.stderr).toBe(0);
    const tei = serviceBlock(result.stdout, 'tei');
    expect(tei).toContain('image: ghcr.io/huggingface/text-embeddings-inference:cuda-');
    expect(tei).toMatch(/driver: nvidia/);
    expect(tei).toMatch(/capabilities:\n\s+- gpu/);
    // Everything else comes from the base file.
    expect(tei).toMatch(/healthcheck:/);
    expect(serviceBlock(result.stdout, 'autobatch')).toContain('AUTOBATCH_UPSTREAM: http://tei:80');
  });

  it('takes another model from TEI_MODEL_ID', () => {
    const [command, ...prefix] = compose!;
    const result = spawnSync(command!, [...prefix, '--project-directory', root, '-f', BASE, 'config'], {
      encoding: 'utf8',
      cwd: root,
      env: { ...process.env, TEI_MODEL_ID: 'BAAI/bge-small-en-v1.5' },
    });
    expect(result.status, result.stderr).toBe(0);
    expect(serviceBlock(result.stdout, 'tei')).toMatch(/- --model-id\n\s+- BAAI\/bge-small-en-v1\.5\n/);
  });

  it('is a check that can fail: a mistyped key is refused', async () => {
    const broken = join(work, 'docker-compose.broken.yml');
    const text = await readFile(GPU, 'utf8');
    expect(text).toContain('capabilities:');
    await writeFile(broken, text.replace('capabilities:', 'capabilites:'));
    const result = config([BASE, broken]);
    expect(result.status).not.toBe(0);
  });
});
