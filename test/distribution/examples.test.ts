/**
 * examples/: every file parses, the ones that need only what is installed here run against a
 * real proxy in front of the TEI simulator, and the deployment manifests point where they should.
 * A check whose tool is missing (python3, curl, PyYAML) is skipped, not passed.
 */
import { spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../../src/index.js';
import { startTeiSim, type TeiSim } from '../../sim/index.js';
import { run } from './harness.js';

const root = resolve(import.meta.dirname, '../..');
const examples = join(root, 'examples');

const has = (command: string, args: string[]): boolean => spawnSync(command, args, { stdio: 'ignore' }).status === 0;
const hasPython = has('python3', ['--version']);
const hasPythonRequests = hasPython && has('python3', ['-c', 'import requests']);
const hasPythonYaml = hasPython && has('python3', ['-c', 'import yaml']);
const hasCurl = has('curl', ['--version']);

/** YAML documents as JSON, read by PyYAML (the project has no YAML parser of its own). */
function loadYaml(file: string): Record<string, unknown>[] {
  const result = spawnSync('python3', ['-c', 'import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))', file], {
    encoding: 'utf8',
  });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>[];
}

let sim: TeiSim;
let proxy: RunningProxy;

beforeAll(async () => {
  sim = await startTeiSim({ modelId: 'nomic-ai/nomic-embed-text-v1.5', dimensions: 64 });
  proxy = await startProxy({ upstream: sim.url, host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await proxy?.close();
  await sim?.close();
});

describe('examples', () => {
  it('node: the openai SDK example is valid JavaScript with its own package.json', async () => {
    const check = await run(process.execPath, ['--check', join(examples, 'node', 'embed.mjs')]);
    expect(check.code, check.output).toBe(0);
    const manifest = JSON.parse(await readFile(join(examples, 'node', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies)).toEqual(['openai']);
  });

  it.skipIf(!hasPython)('python: both clients parse', async () => {
    const files = (await readdir(join(examples, 'python'))).filter((file) => file.endsWith('.py'));
    expect(files.sort()).toEqual(['openai_client.py', 'requests_client.py']);
    for (const file of files) {
      // ast.parse rather than py_compile: nothing is written next to the examples.
      const parsed = await run('python3', [
        '-c',
        'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])',
        join(examples, 'python', file),
      ]);
      expect(parsed.code, parsed.output).toBe(0);
    }
  });

  it.skipIf(!hasCurl)('curl.sh runs through to the end against autobatch', async () => {
    const result = await run('sh', [join(examples, 'curl.sh')], { env: { AUTOBATCH_URL: proxy.url } });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/x-autobatch-batch-size: \d+/i);
    expect(result.output).toContain('"object":"list"');
    expect(result.output).toMatch(/\{"status":"ready","upstreams":\[.*\]\} \(HTTP 200\)/);
    expect(result.output).toMatch(/^autobatch_requests_total/m);
  });

  it.skipIf(!hasPythonRequests)('python/requests_client.py runs and sees batches', async () => {
    const result = await run('python3', [join(examples, 'python', 'requests_client.py')], { env: { AUTOBATCH_URL: proxy.url } });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('64 vectors of 64 dimensions');
  });

  it('prometheus: scrapes /autobatch/metrics', async () => {
    const config = await readFile(join(examples, 'prometheus', 'prometheus.yml'), 'utf8');
    expect(config).toMatch(/job_name: autobatch\s+metrics_path: \/autobatch\/metrics/);
    const metrics = await fetch(`${proxy.url}/autobatch/metrics`);
    expect(metrics.status).toBe(200);
  });

  it.skipIf(!hasPythonYaml)(
    'kubernetes: autobatch replicas probe their own endpoints and discover the tei pods through a headless Service',
    async () => {
      const tei = loadYaml(join(examples, 'kubernetes', 'tei.yaml'));
      const autobatch = loadYaml(join(examples, 'kubernetes', 'autobatch.yaml'));
      const kustomization = loadYaml(join(examples, 'kubernetes', 'kustomization.yaml'))[0] as { resources: string[] };
      expect(kustomization.resources.sort()).toEqual(['autobatch.yaml', 'tei.yaml']);

      type Container = {
        env: { name: string; value: string }[];
        readinessProbe: { httpGet: { path: string; port: string } };
        livenessProbe: { httpGet: { path: string; port: string } };
        ports: { name: string; containerPort: number }[];
      };
      const deployment = (docs: Record<string, unknown>[]) =>
        docs.find((doc) => doc.kind === 'Deployment') as { spec: { replicas: number; template: { spec: { containers: Container[] } } } };
      const service = (docs: Record<string, unknown>[]) =>
        docs.find((doc) => doc.kind === 'Service') as {
          metadata: { name: string };
          spec: { clusterIP?: string; selector: Record<string, string>; ports: { port: number; targetPort: string }[] };
        };

      expect(deployment(tei).spec.replicas).toBeGreaterThan(1);
      expect(deployment(autobatch).spec.replicas).toBeGreaterThan(1);
      const container = deployment(autobatch).spec.template.spec.containers[0]!;
      expect(container.readinessProbe.httpGet.path).toBe('/autobatch/ready');
      expect(container.livenessProbe.httpGet.path).toBe('/autobatch/health');
      expect(container.ports).toEqual([{ name: 'http', containerPort: 3000 }]);

      const env = Object.fromEntries(container.env.map(({ name, value }) => [name, value]));
      const teiService = service(tei);
      // Headless, so the name resolves to the pods; it maps no ports, so the URL names the pods' own port.
      expect(teiService.spec.clusterIP).toBe('None');
      const teiPod = deployment(tei).spec.template as unknown as { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } };
      expect(teiPod.metadata.labels).toMatchObject(teiService.spec.selector);
      const teiPort = teiPod.spec.containers[0]!.ports.find((port) => port.name === teiService.spec.ports[0]!.targetPort)!.containerPort;
      expect(env.AUTOBATCH_UPSTREAM).toBe(`http://${teiService.metadata.name}:${teiPort}`);
      expect(Number(env.AUTOBATCH_DNS_REFRESH_MS)).toBeGreaterThan(0);
      // Every variable is one the CLI reads.
      const help = await run(process.execPath, [join(root, 'bin', 'autobatch.js'), '--help']);
      for (const name of Object.keys(env)) expect(help.output, name).toContain(name);
      // The probed paths answer on a running proxy.
      for (const path of ['/autobatch/ready', '/autobatch/health']) expect((await fetch(proxy.url + path)).status, path).toBe(200);
    },
  );
});
