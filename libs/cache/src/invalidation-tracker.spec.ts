import { InvalidationTracker } from './invalidation-tracker';

describe(InvalidationTracker.name, () => {
  it('reports an invalidation noted after an operation began, and only that', () => {
    const tracker = new InvalidationTracker();
    const start = tracker.begin();
    tracker.note(['k1'], ['t1']);
    expect(tracker.changed(start, 'k1', [])).toBe(true);
    expect(tracker.changed(start, 'k2', ['t1'])).toBe(true);
    expect(tracker.changed(start, 'k2', ['t2'])).toBe(false);
    tracker.end(start);
  });

  it('prunes with 300,000 operations in flight without overflowing the stack, and keeps what they need', () => {
    const tracker = new InvalidationTracker();
    // Distinct start sequences: each begin follows an invalidation.
    const starts: number[] = [];
    for (let i = 0; i < 300_000; i++) {
      starts.push(tracker.begin());
      tracker.note([`k${i}`], []);
    }
    // Ending one operation with over 1,000 remembered invalidations prunes.
    expect(() => tracker.end(starts.pop()!)).not.toThrow();
    // The oldest operation still in flight sees invalidations made after it started.
    expect(tracker.changed(starts[0], 'k0', [])).toBe(true);
    expect(tracker.changed(starts[0], 'k299998', [])).toBe(true);
    // An operation that started after an invalidation does not see it.
    expect(tracker.changed(starts[10], 'k5', [])).toBe(false);
    for (const start of starts) tracker.end(start);
  });
});
