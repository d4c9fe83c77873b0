/** Counters of one namespace and layer. */
export interface LayerCounters {
  hits: number;
  misses: number;
  staleHits: number;
  sets: number;
  deletes: number;
  errors: number;
}

/** The layers counted separately. */
export type CacheLayer = 'l1' | 'l2';

/** Receives every count as it happens (the Prometheus bridge uses this). */
export interface CacheObserver {
  count(namespace: string, layer: CacheLayer, counter: keyof LayerCounters): void;
  duration(operation: string, layer: CacheLayer | 'loader', seconds: number): void;
}

const zero = (): LayerCounters => ({ hits: 0, misses: 0, staleHits: 0, sets: 0, deletes: 0, errors: 0 });

/** Per-namespace, per-layer counters since start. */
export class CacheStats {
  private readonly byNamespace = new Map<string, Record<CacheLayer, LayerCounters>>();
  observer?: CacheObserver;

  count(namespace: string, layer: CacheLayer, counter: keyof LayerCounters): void {
    let layers = this.byNamespace.get(namespace);
    if (!layers) this.byNamespace.set(namespace, (layers = { l1: zero(), l2: zero() }));
    layers[layer][counter]++;
    this.observer?.count(namespace, layer, counter);
  }

  duration(operation: string, layer: CacheLayer | 'loader', started: number): void {
    this.observer?.duration(operation, layer, (performance.now() - started) / 1000);
  }

  /** A copy of every counter, with hit ratios. */
  snapshot(): Record<string, Record<CacheLayer, LayerCounters & { hitRatio: number | null }>> {
    const result: Record<string, Record<CacheLayer, LayerCounters & { hitRatio: number | null }>> = {};
    for (const [namespace, layers] of this.byNamespace) {
      const withRatio = (c: LayerCounters) => ({
        ...c,
        hitRatio: c.hits + c.misses === 0 ? null : c.hits / (c.hits + c.misses),
      });
      result[namespace] = { l1: withRatio(layers.l1), l2: withRatio(layers.l2) };
    }
    return result;
  }
}
