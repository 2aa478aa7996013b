/**
 * The static policy: every value pinned, nothing learned. It is the batcher's behaviour before
 * the adaptive policy existed (and what a benchmark measures as "a static setting"), and what a
 * Batcher built from plain BatcherLimits uses.
 */
import type { DispatchPolicy, PolicySnapshot } from './dispatch-policy.js';

export interface StaticPolicySettings {
  /** Most calls in flight, over all replicas. */
  maxInflight: number;
  /** Slots of those kept for full batches. */
  stagingSlots: number;
  maxBatchSize: number;
  maxWaitMs: number;
  /** Length-bucket factor; undefined: no buckets. */
  bucketByLength?: number | undefined;
}

export class StaticPolicy implements DispatchPolicy {
  private readonly settings: StaticPolicySettings;
  private readonly routes = new Set<string>();

  constructor(settings: StaticPolicySettings) {
    this.settings = { ...settings };
  }

  inflightLimit(): number {
    return this.settings.maxInflight;
  }

  stagingSlots(): number {
    return this.settings.stagingSlots;
  }

  batchSize(): number {
    return this.settings.maxBatchSize;
  }

  holdMs(): number {
    return this.settings.maxWaitMs;
  }

  bucketFactor(): number | undefined {
    return this.settings.bucketByLength;
  }

  requestArrived(route: string): void {
    // Remembered only so the snapshot lists the routes in use; bounded by the route table.
    if (this.routes.size < 256) this.routes.add(route);
  }

  callFinished(): void {}

  /** The settings were made for `stagingSlots` replicas (one staging slot each): scaled to `count`. */
  setReplicas(count: number): void {
    const perReplica = this.settings.maxInflight / this.settings.stagingSlots;
    this.settings.maxInflight = Math.max(count + 1, Math.round(perReplica * count));
    this.settings.stagingSlots = count;
  }

  snapshot(): PolicySnapshot {
    const pinned = { source: 'pinned', why: 'static policy' } as const;
    return {
      policy: 'static',
      inflightLimit: { value: this.settings.maxInflight, ...pinned },
      stagingSlots: this.settings.stagingSlots,
      throughput: 0,
      routes: [...this.routes].map((route) => ({
        route,
        batchSize: { value: this.settings.maxBatchSize, ...pinned },
        bucketFactor: { value: this.settings.bucketByLength ?? null, ...pinned },
        holdMs: { value: this.settings.maxWaitMs, ...pinned },
        pads: { value: null, ...pinned },
        costFit: null,
      })),
    };
  }
}
