import { clip } from './audit-text';

describe(clip.name, () => {
  it('keeps a short text as it is', () => {
    expect(clip('warm.users 0a1b')).toBe('warm.users 0a1b');
    expect(clip('x'.repeat(500))).toBe('x'.repeat(500));
  });

  it('never writes a NUL, which Postgres refuses in text', () => {
    expect(clip('a\0b')).toBe('a\\0b');
    expect(clip('\0'.repeat(600))).not.toContain('\0');
  });

  it('cuts on code points, never inside a surrogate pair, and counts them as Postgres does', () => {
    // 497 characters then emoji: a cut at 497 UTF-16 units fell between the halves of the first.
    const cut = clip(`${'x'.repeat(496)}${'😀'.repeat(10)}`);
    expect(cut).toBe(`${'x'.repeat(496)}😀...`);
    expect(/[\ud800-\udfff]/u.test(cut)).toBe(false);
    expect(Array.from(cut)).toHaveLength(500);
    // 300 emoji are 600 UTF-16 units but 300 characters: they fit in varchar(500) uncut.
    expect(clip('😀'.repeat(300))).toBe('😀'.repeat(300));
    expect(Array.from(clip('😀'.repeat(501)))).toHaveLength(500);
    expect(clip('😀😀😀😀', 3)).toBe('...');
  });

  it('replaces a lone surrogate, which has no UTF-8 form', () => {
    expect(clip('a\ud800b')).toBe('a\ufffdb');
  });
});
