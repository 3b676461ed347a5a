/**
 * Seeded randomness for the fuzzer (src/fuzz/), the order of reduce's tries
 * (src/reduce/ddmin.ts) and the model's random scenarios: a campaign is a
 * seed, and scenario i of it is a function of (seed, i) alone, so a finding
 * is run again from two numbers and a shard or a resumed campaign draws the
 * very scenarios a single run would have.
 */

/** mulberry32: small, fast, and good enough to pick steps; not for secrets. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seed of scenario `index` of a campaign: the two numbers mixed
 * (splitmix32's finaliser), so neighbouring indexes draw unrelated streams.
 */
export function scenarioSeed(campaignSeed: number, index: number): number {
  let z = (Math.imul(campaignSeed >>> 0, 0x9e3779b1) + Math.imul(index >>> 0, 0x85ebca6b) + 0x6d2b79f5) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97) >>> 0;
  return (z ^ (z >>> 15)) >>> 0;
}

/** Helpers over one stream. */
export class Draw {
  constructor(readonly next: () => number) {}

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A whole number in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from nothing');
    return xs[Math.floor(this.next() * xs.length)]!;
  }

  /** One key by its weight; keys of weight 0 are never drawn. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    const total = entries.reduce((s, [, w]) => s + Math.max(0, w), 0);
    let x = this.next() * total;
    for (const [k, w] of entries) {
      if (w <= 0) continue;
      x -= w;
      if (x < 0) return k;
    }
    return entries.filter(([, w]) => w > 0).at(-1)![0];
  }
}
