import clusterKeySlot from 'cluster-key-slot';
import { buildKey, KeyLayout, safeSegment, withoutSlotGroup } from './keys';

describe(buildKey.name, () => {
  it('joins simple parts with colons', () => {
    expect(buildKey('user', 42)).toBe('user:42');
  });

  it('gives the same key for the same query whatever the property order', () => {
    expect(buildKey('list', { page: 1, limit: 20 })).toBe(buildKey('list', { limit: 20, page: 1 }));
    expect(buildKey('list', { page: 1 })).not.toBe(buildKey('list', { page: 2 }));
  });

  it('hashes anything with unsafe characters into a bounded safe segment', () => {
    const key = buildKey('search', { q: 'a b*?{tag}' });
    expect(key).toMatch(/^h\.[A-Za-z0-9_-]{43}$/);
  });
});

describe(safeSegment.name, () => {
  it('keeps safe input and hashes long or unsafe input deterministically', () => {
    expect(safeSegment('users:42')).toBe('users:42');
    expect(safeSegment('x'.repeat(201))).toMatch(/^h\./);
    expect(safeSegment('{slot}')).toBe(safeSegment('{slot}'));
    expect(safeSegment('{slot}')).not.toBe(safeSegment('{slot2}'));
  });
});

describe(KeyLayout.name, () => {
  it('lays out keys under the prefix as the design says', () => {
    const layout = new KeyLayout('bp');
    expect(layout.entry('users', '42')).toBe('bp:c:users:42');
    expect(layout.tagPrefix).toBe('bp:t:');
    expect(layout.lock('jobs:nightly')).toEqual({ lock: 'bp:lk:{jobs:nightly}', fence: 'bp:lk:{jobs:nightly}:fence' });
    expect(layout.loaderLockName('bp:c:users:42')).toBe('loader:users:42');
    expect(layout.bus).toBe('bp:bus');
    expect(layout.markerPrefixOf('bp:c:users:42')).toBe('bp:t:');
    expect(layout.markerPrefixes).toEqual(['bp:t:']);
  });

  describe('on a Redis Cluster (slot groups)', () => {
    const layout = new KeyLayout('bp', 16);

    it("gives an entry its group's hash tag, and its markers the same one: one slot for a read script", () => {
      const entry = layout.entry('users', '42');
      expect(entry).toMatch(/^bp:c:users:42\{[0-9a-z]+\}$/);
      expect(layout.entry('users', '42')).toBe(entry);
      const markers = layout.markerPrefixOf(entry);
      expect(markers).toMatch(/^bp:t:\{[0-9a-z]+\}:$/);
      expect(clusterKeySlot(`${markers}q.row:User:42`)).toBe(clusterKeySlot(entry));
      expect(layout.markerPrefixes).toContain(markers);
      expect(layout.withoutGroup(entry)).toBe('bp:c:users:42');
      expect(withoutSlotGroup('bp:c:users:42')).toBe('bp:c:users:42');
      expect(layout.loaderLockName(entry)).toBe('loader:users:42');
    });

    it('spreads groups evenly over the slot space, and keys evenly over the groups', () => {
      const prefixes = layout.markerPrefixes;
      expect(new Set(prefixes).size).toBe(16);
      // Group g hashes into the g-th sixteenth of the 16,384 slots.
      prefixes.forEach((prefix, g) => expect(Math.floor(clusterKeySlot(prefix) / 1024)).toBe(g));
      const perGroup = new Map<string, number>();
      for (let i = 0; i < 16_000; i++) {
        const group = layout.markerPrefixOf(layout.entry('ns', `k${i}`));
        perGroup.set(group, (perGroup.get(group) ?? 0) + 1);
      }
      expect(perGroup.size).toBe(16);
      for (const count of perGroup.values()) expect(Math.abs(count - 1_000)).toBeLessThan(150);
    });

    it('computes the same groups in every instance', () => {
      expect(new KeyLayout('bp', 16).markerPrefixes).toEqual(layout.markerPrefixes);
      expect(new KeyLayout('bp', 16).entry('a', 'b')).toBe(layout.entry('a', 'b'));
    });
  });
});
