import type { L1Entry } from '../cache-entry';
import { L1Index } from './l1-index';

const entry = (value: unknown, tags: string[] = []): L1Entry => ({
  value,
  expiresAt: Date.now() + 60_000,
  graceUntil: Date.now() + 60_000,
  tags,
  ttlMs: 60_000,
});

/** The keys of `keys` still stored, read without touching the frequency sketch. */
const present = (l1: L1Index, keys: string[]) => keys.filter((k) => l1.peek(k) !== undefined);

describe(L1Index.name, () => {
  it('stores, reads and deletes entries', () => {
    const l1 = new L1Index({ maxEntries: 10 });
    const e = entry('v');
    l1.set('k', e, 10);
    expect(l1.get('k')).toBe(e);
    expect(l1.peek('k')).toBe(e);
    expect(l1.size).toBe(1);
    expect(l1.bytes).toBe(10);
    expect(l1.delete('k')).toBe(true);
    expect(l1.delete('k')).toBe(false);
    expect(l1.get('k')).toBeUndefined();
    expect(l1.size).toBe(0);
    expect(l1.bytes).toBe(0);
  });

  it('stays within maxEntries', () => {
    const l1 = new L1Index({ maxEntries: 20 });
    for (let i = 0; i < 200; i++) l1.set(`k${i}`, entry(i, ['t']), 1);
    expect(l1.size).toBe(20);
  });

  it('stays within maxBytes, and counts a replaced entry once', () => {
    const l1 = new L1Index({ maxEntries: 1_000, maxBytes: 1_000 });
    for (let i = 0; i < 100; i++) l1.set(`k${i}`, entry(i), 100);
    expect(l1.bytes).toBeLessThanOrEqual(1_000);
    expect(l1.size).toBeLessThanOrEqual(10);
    l1.clear();
    l1.set('k', entry(1), 300);
    l1.set('k', entry(2), 200);
    expect(l1.bytes).toBe(200);
  });

  it('refuses an entry larger than maxBytes, and drops the older value of its key', () => {
    const l1 = new L1Index({ maxEntries: 10, maxBytes: 100 });
    l1.set('k', entry('small', ['a']), 10);
    l1.set('k', entry('huge', ['b']), 101);
    expect(l1.peek('k')).toBeUndefined();
    expect(l1.bytes).toBe(0);
    // Neither tag still points at the key: re-stored untagged, it survives both invalidations.
    l1.set('k', entry('again'), 10);
    l1.deleteTagged(['a', 'b']);
    expect(l1.peek('k')?.value).toBe('again');
  });

  it('deleteTagged removes exactly the entries carrying one of the tags', () => {
    const l1 = new L1Index({ maxEntries: 100 });
    l1.set('a', entry(1, ['user:1']), 1);
    l1.set('b', entry(2, ['user:1', 'org:1']), 1);
    l1.set('c', entry(3, ['org:1']), 1);
    l1.set('d', entry(4, ['user:2']), 1);
    l1.set('e', entry(5), 1);
    l1.deleteTagged(['user:1']);
    expect(present(l1, ['a', 'b', 'c', 'd', 'e'])).toEqual(['c', 'd', 'e']);
    l1.deleteTagged(['org:1', 'user:2', 'unknown']);
    expect(present(l1, ['a', 'b', 'c', 'd', 'e'])).toEqual(['e']);
    expect(l1.size).toBe(1);
  });

  it('forgets the old tags of an overwritten key', () => {
    const l1 = new L1Index({ maxEntries: 100 });
    l1.set('k', entry('old', ['a']), 1);
    l1.set('k', entry('new', ['b']), 1);
    l1.deleteTagged(['a']);
    expect(l1.peek('k')?.value).toBe('new');
    l1.deleteTagged(['b']);
    expect(l1.peek('k')).toBeUndefined();
  });

  it('forgets the tags of a deleted key', () => {
    const l1 = new L1Index({ maxEntries: 100 });
    l1.set('k', entry('old', ['a']), 1);
    l1.delete('k');
    l1.set('k', entry('new'), 1);
    l1.deleteTagged(['a']);
    expect(l1.peek('k')?.value).toBe('new');
  });

  it('forgets the tags of an evicted key', () => {
    const l1 = new L1Index({ maxEntries: 10 });
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    for (const k of keys) l1.set(k, entry(k, ['t']), 1);
    const evicted = keys.filter((k) => l1.peek(k) === undefined);
    expect(evicted.length).toBe(40);
    // Stored again without the tag: a stale index entry would make the invalidation remove it.
    const back = evicted[0];
    l1.set(back, entry('untagged'), 1);
    expect(l1.peek(back)?.value).toBe('untagged');
    l1.deleteTagged(['t']);
    expect(present(l1, keys)).toEqual([back]);
  });

  it('clear() empties the store and the tag index', () => {
    const l1 = new L1Index({ maxEntries: 100 });
    l1.set('a', entry(1, ['t']), 5);
    l1.set('b', entry(2), 5);
    l1.clear();
    expect(l1.size).toBe(0);
    expect(l1.bytes).toBe(0);
    expect(l1.get('a')).toBeUndefined();
    l1.set('a', entry('untagged'), 5);
    l1.deleteTagged(['t']);
    expect(l1.peek('a')?.value).toBe('untagged');
  });

  it('peek does not count as an access; get does (it decides admission)', () => {
    // Two entries: one in the window, one in probation. A third write makes the
    // window's entry duel probation's; the more frequently read one stays.
    const run = (read: (l1: L1Index) => void) => {
      const l1 = new L1Index({ maxEntries: 2 });
      l1.get('b'); // b was missed once before it was stored: frequency 1
      l1.set('a', entry('a'), 1);
      l1.set('b', entry('b'), 1);
      read(l1);
      l1.set('c', entry('c'), 1);
      return present(l1, ['a', 'b']);
    };
    const reads = (l1: L1Index) => {
      for (let i = 0; i < 3; i++) expect(l1.get('a')?.value).toBe('a');
    };
    const peeks = (l1: L1Index) => {
      for (let i = 0; i < 3; i++) expect(l1.peek('a')?.value).toBe('a');
    };
    expect(run(reads)).toEqual(['a']);
    expect(run(peeks)).toEqual(['b']);
  });
});
