/**
 * Closed-loop load on simulated time: N clients, each sending one /embed input and the next as
 * soon as its answer is back, over a network round trip, either through the modelled proxy or
 * straight to the modelled upstream ('direct': each request its own call, as a client without
 * autobatch runs). A run is a list of phases with a client count each, so the same code measures
 * a steady level (one phase) and load steps (1 -> 128 -> 8 clients) with the throughput per
 * 100 ms to see how fast the policy settles.
 *
 * Texts are the load generator's built-in corpus in its order (`autobatch bench` sends text k of
 * the run as request k), so one text in four is a paragraph, as in the measurements.
 */
import { mulberry32 } from '../../sim/random.js';
import { BUILT_IN_CORPUS } from '../../src/loadgen/corpus.js';
import { SimClock } from './sim-clock.js';
import type { PolicySnapshot } from '../../src/core/policy/dispatch-policy.js';
import { buildProxy, type DispatchSetting } from './sim-proxy.js';
import { SimUpstream, wordCount, type UpstreamModel } from './upstream-models.js';

export type Target = 'direct' | DispatchSetting;

export interface Phase {
  readonly clients: number;
  readonly durationMs: number;
}

export interface LoadRun {
  readonly model: UpstreamModel;
  readonly target: Target;
  readonly phases: readonly Phase[];
  /** Round trip of each network leg (client-proxy, proxy-upstream, client-upstream). */
  readonly rttMs?: number;
  /** Mean extra delay per round trip, drawn per leg (exponential, seeded): the real network's and scheduler's jitter. */
  readonly jitterMs?: number;
  /** The proxy's CPU per request (see SimCpu in sim-proxy.ts); 0: none. */
  readonly proxyCpuMs?: number;
  /** Seed of the jitter. */
  readonly seed?: number;
  /** Unmeasured time at the start of each phase. */
  readonly warmupMs?: number;
  readonly binMs?: number;
  readonly texts?: readonly string[];
}

export interface PhaseResult {
  readonly clients: number;
  /** Requests (one input each) answered per second after the phase's warm-up. */
  readonly inputsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The policy's decisions at the end of the phase, if it gives an account of them. */
  readonly decisions: PolicySnapshot | undefined;
}

export interface LoadResult {
  readonly phases: PhaseResult[];
  /** Requests sent and answered within one phase, per second, in each bin of `binMs` from the run's start. */
  readonly curve: number[];
  readonly binMs: number;
  /** Inputs per backend batch over the whole run. */
  readonly meanBatch: number;
  /** Inputs per upstream call (what the proxy sent) over the whole run. */
  readonly meanCall: number;
  /** The policy's own account of its decisions at the end of the run, if it gives one. */
  readonly decisions: PolicySnapshot | undefined;
}

export const DEFAULT_RTT_MS = 0.3;
export const DEFAULT_BIN_MS = 100;

function percentile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
}

export async function runLoad(run: LoadRun): Promise<LoadResult> {
  const rttMs = run.rttMs ?? DEFAULT_RTT_MS;
  const warmupMs = run.warmupMs ?? 0;
  const binMs = run.binMs ?? DEFAULT_BIN_MS;
  const texts = run.texts ?? BUILT_IN_CORPUS;
  const words = texts.map(wordCount);
  const clock = new SimClock();
  const upstream = new SimUpstream(run.model, (callback, delayMs) => clock.setTimer(callback, delayMs));
  const jitterMs = run.jitterMs ?? 0;
  const random = mulberry32(run.seed ?? 1);
  // Half a round trip, plus (when modelled) an exponential delay of mean half the jitter.
  const leg = (): number => rttMs / 2 + (jitterMs > 0 ? (-Math.log(1 - random()) * jitterMs) / 2 : 0);
  const proxy = run.target === 'direct' ? undefined : buildProxy(run.target, clock, upstream, { leg, cpuMs: run.proxyCpuMs ?? 0 });
  const totalMs = run.phases.reduce((sum, p) => sum + p.durationMs, 0);

  const curve = new Array<number>(Math.ceil(totalMs / binMs)).fill(0);
  const phaseStarts: number[] = [];
  let start = 0;
  for (const phase of run.phases) {
    phaseStarts.push(start);
    start += phase.durationMs;
  }
  const latencies: number[][] = run.phases.map(() => []);
  const answeredInWindow = run.phases.map(() => 0);
  const alive: boolean[] = [];
  let sequence = 0;
  let active = 0;

  const phaseAt = (t: number): number => {
    let index = 0;
    for (let i = 0; i < phaseStarts.length; i++) if (t >= phaseStarts[i]!) index = i;
    return index;
  };

  const send = (id: number): void => {
    const sentAt = clock.now();
    const k = sequence++;
    const text = texts[k % texts.length]!;
    const answered = (): void => {
      const now = clock.now();
      if (now <= totalMs) {
        const phase = phaseAt(now);
        // The curve counts the level's own requests: after a step down, the answers draining to
        // departing clients would hide how the remaining clients fare.
        if (phaseAt(sentAt) === phase) curve[Math.min(curve.length - 1, Math.floor(now / binMs))]! += 1000 / binMs;
        if (now >= phaseStarts[phase]! + warmupMs) answeredInWindow[phase]!++;
        if (sentAt >= phaseStarts[phase]! + warmupMs) latencies[phase]!.push(now - sentAt);
      }
      // A client beyond the current count stops after its answer (a step down).
      if (id < active && now < totalMs) send(id);
      else alive[id] = false;
    };
    clock.setTimer(() => {
      const upstreamDone = proxy === undefined ? upstream.run([words[k % words.length]!]) : proxy.submit(text);
      void upstreamDone.then(() => clock.setTimer(answered, leg()));
    }, leg());
  };

  const startPhase = (index: number): void => {
    const clients = run.phases[index]!.clients;
    const before = active;
    active = clients;
    // New clients start spread over one round trip, as connections open one after another.
    for (let id = 0; id < clients; id++) {
      if (alive[id] === true) continue;
      alive[id] = true;
      clock.setTimer(() => send(id), (Math.max(0, id - before) * rttMs) / Math.max(1, clients - before));
    }
  };
  const phaseDecisions: Array<PolicySnapshot | undefined> = run.phases.map(() => undefined);
  for (let i = 0; i < run.phases.length; i++) {
    clock.setTimer(() => startPhase(i), phaseStarts[i]!);
    clock.setTimer(() => (phaseDecisions[i] = proxy?.decisions()), phaseStarts[i]! + run.phases[i]!.durationMs - 1e-6);
  }
  await clock.runUntil(totalMs);

  const phases = run.phases.map((phase, i) => {
    const sorted = latencies[i]!.sort((a, b) => a - b);
    const measuredMs = phase.durationMs - warmupMs;
    return {
      clients: phase.clients,
      inputsPerSecond: (1000 * answeredInWindow[i]!) / measuredMs,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      decisions: phaseDecisions[i],
    };
  });
  const stats = upstream.stats;
  return {
    phases,
    curve,
    binMs,
    meanBatch: stats.batches === 0 ? 0 : stats.batchedItems / stats.batches,
    meanCall: stats.calls === 0 ? 0 : stats.batchedItems / stats.calls,
    decisions: proxy?.decisions(),
  };
}

/** One steady level: `clients` for warm-up + measured time. */
export async function runSteady(model: UpstreamModel, target: Target, clients: number, timing: SimTiming): Promise<LoadResult> {
  return runLoad({
    model,
    target,
    phases: [{ clients, durationMs: timing.warmupMs + timing.measureMs }],
    warmupMs: timing.warmupMs,
    rttMs: timing.rttMs,
    jitterMs: timing.jitterMs,
    proxyCpuMs: timing.proxyCpuMs,
    seed: timing.seed,
  });
}

export interface SimTiming {
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly rttMs?: number;
  /** See LoadRun: jitter and the proxy's CPU, off (0) for the deterministic targets. */
  readonly jitterMs?: number;
  readonly proxyCpuMs?: number;
  /** Seed of the jitter (LoadRun's); 1 when not given. Without jitter every seed runs alike. */
  readonly seed?: number;
}

/** Warm-up as the issue allows it (at most 2 s per level), then 2 s measured. */
export const DEFAULT_TIMING: SimTiming = { warmupMs: 2000, measureMs: 2000 };
