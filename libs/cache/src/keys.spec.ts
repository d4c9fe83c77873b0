import { buildKey, KeyLayout, safeSegment } from './keys';

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
  });
});
