import { mulberry32 } from '../../../../bench/zipf';
import { FrequencySketch, hashKey } from './frequency-sketch';

describe(FrequencySketch.name, () => {
  it('never under-counts a key before a reset', () => {
    const sketch = new FrequencySketch(1_000);
    const random = mulberry32(7);
    const counts = new Map<string, number>();
    // 2,000 keys × at most 15 would pass the 10,000 sample: stop short of it so no reset halves anything.
    let total = 0;
    while (total < sketch.sampleSize / 2) {
      const key = `key-${Math.floor(random() * 2_000)}`;
      sketch.increment(key);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      total++;
    }
    let exact = 0;
    for (const [key, count] of counts) {
      const estimate = sketch.frequency(key);
      expect(estimate).toBeGreaterThanOrEqual(Math.min(count, 15));
      if (estimate === Math.min(count, 15)) exact++;
    }
    // Four rows over a table 16× the capacity: collisions should be rare, not the rule.
    expect(exact / counts.size).toBeGreaterThan(0.9);
  });

  it('reports 0 for a key never seen', () => {
    const sketch = new FrequencySketch(100);
    sketch.increment('a');
    expect(sketch.frequency('never-seen')).toBe(0);
  });

  it('saturates at 15', () => {
    const sketch = new FrequencySketch(1_000);
    for (let i = 0; i < 100; i++) sketch.increment('hot');
    expect(sketch.frequency('hot')).toBe(15);
  });

  it('halves every estimate on reset', () => {
    const sketch = new FrequencySketch(1_000);
    const before = new Map<string, number>();
    for (let k = 0; k < 200; k++) {
      for (let i = 0; i < k % 16; i++) sketch.increment(`k${k}`);
    }
    for (let k = 0; k < 200; k++) before.set(`k${k}`, sketch.frequency(`k${k}`));
    sketch.reset();
    for (const [key, estimate] of before) expect(sketch.frequency(key)).toBe(Math.floor(estimate / 2));
    expect(before.get('k15')).toBeGreaterThanOrEqual(15);
  });

  it('ages by itself after sampleSize increments', () => {
    const sketch = new FrequencySketch(100);
    for (let i = 0; i < 15; i++) sketch.increment('old-favourite');
    let increments = 0;
    while (sketch.frequency('old-favourite') === 15 && increments < 2 * sketch.sampleSize) {
      sketch.increment(`other-${increments++}`);
    }
    expect(sketch.frequency('old-favourite')).toBe(7);
    expect(increments).toBeLessThanOrEqual(sketch.sampleSize);
  });

  it('accepts a precomputed hash in place of the key', () => {
    const sketch = new FrequencySketch(100);
    sketch.incrementHash(hashKey('x'));
    sketch.increment('x');
    expect(sketch.frequencyHash(hashKey('x'))).toBe(2);
    expect(sketch.frequency('x')).toBe(2);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new FrequencySketch(0)).toThrow(RangeError);
    expect(() => new FrequencySketch(1.5)).toThrow(RangeError);
  });
});

describe(hashKey.name, () => {
  it('is FNV-1a 32-bit', () => {
    // Reference values of the FNV-1a test suite.
    expect(hashKey('')).toBe(0x811c9dc5);
    expect(hashKey('a')).toBe(0xe40c292c);
    expect(hashKey('foobar')).toBe(0xbf9cf968);
  });
});
