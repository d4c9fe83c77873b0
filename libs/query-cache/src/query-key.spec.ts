import { In, IsNull, MoreThan, Not } from 'typeorm';
import { canonical, repositoryKey } from './query-key';

describe('query keys', () => {
  it('does not depend on the order of object keys', () => {
    expect(canonical({ where: { a: 1, b: 'x' }, take: 5 })).toBe(canonical({ take: 5, where: { b: 'x', a: 1 } }));
  });

  it('keeps types apart: a number, its string, a Date and its ISO string', () => {
    const when = new Date('2024-01-01T00:00:00Z');
    expect(canonical({ id: 1 })).not.toBe(canonical({ id: '1' }));
    expect(canonical({ at: when })).not.toBe(canonical({ at: when.toISOString() }));
  });

  it('spells out operators with their values and nesting', () => {
    expect(canonical({ id: In([1, 2]) })).not.toBe(canonical({ id: In([1, 3]) }));
    expect(canonical({ id: MoreThan(1) })).not.toBe(canonical({ id: Not(MoreThan(1)) }));
    expect(canonical({ d: IsNull() })).not.toBe(canonical({ d: Not(IsNull()) }));
    expect(canonical({ id: In([1, 2]) })).toBe(canonical({ id: In([1, 2]) }));
  });

  it('names the entity and method, and hashes the arguments into a short safe segment', () => {
    const key = repositoryKey('User', 'findOneBy', [{ email: 'a b:{c}*' }]);
    expect(key).toMatch(/^User:findOneBy:[A-Za-z0-9_-]{22}$/);
    expect(key).not.toBe(repositoryKey('User', 'findBy', [{ email: 'a b:{c}*' }]));
  });
});
