/**
 * examples/grafana/autobatch.json against the metrics a running proxy really exports, so the
 * dashboard cannot drift: every metric a panel queries must be exported (with the labels the
 * query uses), and every metric the proxy exports must be on the dashboard.
 *
 * The dispatch-policy gauges (autobatch_policy_*) are being added on another branch; until a proxy
 * exports any of them, the names in PENDING_POLICY_METRICS are allowed unexported. Once one is
 * exported, the allowance ends and every policy name the dashboard uses must be exported too.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startProxy, type RunningProxy } from '../../src/proxy.js';
import { post, send } from '../support/http.js';
import { startTinyTei, type TinyTei } from '../support/tiny-tei.js';

const root = resolve(import.meta.dirname, '../..');
const grafana = join(root, 'examples', 'grafana');

/** Policy gauges the dashboard shows before this branch's proxy exports them (see the header). */
const PENDING_POLICY_METRICS = new Set([
  'autobatch_policy_inflight_limit',
  'autobatch_policy_throughput_inputs_per_second',
  'autobatch_policy_batch_size',
  'autobatch_policy_bucket_factor',
  'autobatch_policy_hold_seconds',
  'autobatch_policy_pads',
  'autobatch_policy_cost_seconds',
]);

/** Labels Prometheus adds to every scraped series, and the bucket label of histograms. */
const SCRAPE_LABELS = new Set(['instance', 'job']);

interface Family {
  type: string;
  /** Label names seen on its samples (le included for histogram buckets). */
  labels: Set<string>;
  /** Whether it had any sample to read labels from. */
  sampled: boolean;
}

/** Metric families from the Prometheus text format: `# TYPE` lines, and the labels on samples. */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) families.set(type[1]!, { type: type[2]!, labels: new Set(), sampled: false });
  }
  for (const line of text.split('\n')) {
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? \S+$/.exec(line);
    if (sample === null) continue;
    const family = families.get(familyOf(sample[1]!, families));
    if (family !== undefined) family.sampled = true;
    for (const label of (sample[2] ?? '').matchAll(/(\w+)="/g)) family?.labels.add(label[1]!);
  }
  return families;
}

/** `x_bucket`, `x_sum` and `x_count` belong to the histogram or summary `x`. */
function familyOf(name: string, families: ReadonlyMap<string, Family>): string {
  const base = /^(.*)_(?:bucket|sum|count)$/.exec(name)?.[1];
  if (base !== undefined && (families.has(base) || PENDING_POLICY_METRICS.has(base))) return base;
  return name;
}

interface Query {
  where: string;
  expr: string;
}

interface Panel {
  id?: number;
  type: string;
  title: string;
  datasource?: { uid?: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string }[];
  panels?: Panel[];
}

interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
}

function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

function queriesOf(dashboard: Dashboard): Query[] {
  const queries: Query[] = [];
  for (const panel of allPanels(dashboard.panels)) {
    for (const target of panel.targets ?? []) queries.push({ where: `panel "${panel.title}"`, expr: target.expr });
  }
  for (const variable of dashboard.templating.list) {
    if (variable.type !== 'query') continue;
    const query = variable.query as string | { query: string };
    queries.push({ where: `variable $${variable.name}`, expr: typeof query === 'string' ? query : query.query });
  }
  return queries;
}

/** Label names an expression uses: in `by (...)`/`without (...)`, selector matchers and label_values(). */
function labelsUsed(expr: string): { metrics: string[]; labels: string[] } {
  const labels = new Set<string>();
  for (const group of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    for (const label of group[1]!.split(',')) if (label.trim() !== '') labels.add(label.trim());
  }
  for (const selector of expr.matchAll(/\{([^}]*)\}/g)) {
    for (const matcher of selector[1]!.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) labels.add(matcher[1]!);
  }
  for (const values of expr.matchAll(/label_values\(\s*\w+\s*,\s*(\w+)\s*\)/g)) labels.add(values[1]!);
  const metrics = [...new Set([...expr.matchAll(/\bautobatch_\w+/g)].map((match) => match[0]))];
  return { metrics, labels: [...labels] };
}

let upstream: TinyTei;
let proxy: RunningProxy;
let exported: Map<string, Family>;
let dashboard: Dashboard;

beforeAll(async () => {
  upstream = await startTinyTei(8);
  proxy = await startProxy({ upstream: upstream.url, host: '127.0.0.1', port: 0, logger: createLogger('silent', 'json') });
  // Traffic that gives every labelled metric samples: a batched answer, a body sent alone (not
  // JSON: the upstream answers it), and a pass-through.
  expect((await post(proxy.url, '/embed', { inputs: ['a', 'b'] })).status).toBe(200);
  expect((await send(proxy.url, '/embed', { raw: '{"inputs": no', headers: { 'content-type': 'application/json' } })).status).toBe(422);
  expect((await send(proxy.url, '/info')).status).toBe(200);
  exported = parseExposition(await (await fetch(`${proxy.url}/autobatch/metrics`)).text());
  dashboard = JSON.parse(await readFile(join(grafana, 'autobatch.json'), 'utf8')) as Dashboard;
});

afterAll(async () => {
  await proxy?.close();
  await upstream?.close();
});

describe('the Grafana dashboard (examples/grafana/autobatch.json)', () => {
  it('queries only metrics the proxy exports, with labels they carry', () => {
    const policyExported = [...exported.keys()].some((name) => name.startsWith('autobatch_policy_'));
    const problems: string[] = [];
    for (const { where, expr } of queriesOf(dashboard)) {
      const { metrics, labels } = labelsUsed(expr);
      expect(metrics.length, `${where} queries no autobatch metric: ${expr}`).toBeGreaterThan(0);
      const allowed = new Set([...SCRAPE_LABELS]);
      for (const name of metrics) {
        const family = familyOf(name, exported);
        const known = exported.get(family);
        if (known === undefined) {
          if (!(PENDING_POLICY_METRICS.has(family) && !policyExported)) problems.push(`${where}: ${name} is not exported`);
          // A pending gauge's labels cannot be checked until it exists.
          for (const label of labels) allowed.add(label);
          continue;
        }
        // A labelled counter nobody has counted yet has no samples, so no labels to check against.
        for (const label of known.sampled ? known.labels : labels) allowed.add(label);
      }
      for (const label of labels) if (!allowed.has(label)) problems.push(`${where}: label "${label}" is on none of ${metrics.join(', ')}`);
    }
    expect(problems).toEqual([]);
  });

  it('shows every metric the proxy exports (the process metrics it picks from)', () => {
    const used = new Set(queriesOf(dashboard).flatMap(({ expr }) => labelsUsed(expr).metrics.map((name) => familyOf(name, exported))));
    const missing = [...exported.keys()].filter((name) => name.startsWith('autobatch_') && !name.startsWith('autobatch_process_') && !used.has(name));
    expect(missing, 'exported by the proxy but on no panel of examples/grafana/autobatch.json').toEqual([]);
    // And the policy allowance is no wider than what the dashboard uses.
    for (const name of PENDING_POLICY_METRICS) expect(used, name).toContain(name);
  });

  it('covers what the issue asked for, each panel on the dashboard datasource, inside a 24-column grid', () => {
    const panels = allPanels(dashboard.panels);
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels.filter((panel) => panel.type !== 'row')) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
    const exprs = queriesOf(dashboard).map(({ expr }) => expr);
    for (const needed of [
      /autobatch_requests_total/, // requests and statuses
      /rate\(autobatch_batch_size_sum/, // inputs/s
      /autobatch_batch_size_bucket/, // batch size distribution
      /autobatch_queue_wait_seconds_bucket/, // queue wait
      /autobatch_upstream_call_duration_seconds_bucket/, // upstream call time
      /autobatch_inflight_calls/, // in flight
      /autobatch_queue_depth/, // queue depth
      /autobatch_policy_/, // what the dispatch policy learned
    ]) {
      expect(
        exprs.some((expr) => needed.test(expr)),
        String(needed),
      ).toBe(true);
    }
  });

  it('is provisioned from the folder the provisioning file names', async () => {
    const provider = await readFile(join(grafana, 'provisioning', 'dashboards', 'autobatch.yml'), 'utf8');
    const path = /^\s+path: (\S+)$/m.exec(provider)?.[1];
    expect(path).toBeDefined();
    expect(provider).toContain(`autobatch.json:${path}/autobatch.json`);
    const datasource = await readFile(join(grafana, 'provisioning', 'datasources', 'prometheus.yml'), 'utf8');
    expect(datasource).toMatch(/type: prometheus/);
  });
});
