import { InvalidationIds, RecentIds } from './recent-ids';

describe(RecentIds.name, () => {
  it('knows an id once added, and none from an empty list', () => {
    const recent = new RecentIds();
    expect(recent.allSeen(['a'])).toBe(false);
    recent.add(['a', 'b']);
    expect(recent.allSeen(['a'])).toBe(true);
    expect(recent.allSeen(['a', 'b'])).toBe(true);
    expect(recent.allSeen(['a', 'c'])).toBe(false);
    expect(recent.allSeen([])).toBe(false);
  });

  it('forgets the oldest ids beyond its capacity', () => {
    const recent = new RecentIds(3);
    recent.add(['a', 'b', 'c', 'd']);
    expect(recent.size).toBe(3);
    expect(recent.allSeen(['a'])).toBe(false);
    expect(recent.allSeen(['b', 'c', 'd'])).toBe(true);
  });
});

describe(InvalidationIds.name, () => {
  it('never repeats an id, within an instance or across two', () => {
    const a = new InvalidationIds();
    const b = new InvalidationIds();
    const ids = new Set(Array.from({ length: 1000 }, () => [a.next(), b.next()]).flat());
    expect(ids.size).toBe(2000);
  });
});
