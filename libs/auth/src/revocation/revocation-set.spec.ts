import { RevocationSet } from './revocation-set';

describe(RevocationSet.name, () => {
  it('holds a revocation until it expires, keeping the later expiry of duplicates', () => {
    const set = new RevocationSet();
    set.add([
      { kind: 'jti', subject: 'a', expiresAt: 2_000 },
      { kind: 'jti', subject: 'a', expiresAt: 1_000 },
      { kind: 'sid', subject: 'a', expiresAt: 500 },
    ]);
    expect(set.has('jti', 'a', 1_500)).toBe(true);
    expect(set.has('sid', 'a', 1_500)).toBe(false);
    expect(set.has('jti', 'b', 0)).toBe(false);
    set.prune(1_500);
    expect(set.size).toBe(1);
    set.prune(2_000);
    expect(set.size).toBe(0);
  });
});
