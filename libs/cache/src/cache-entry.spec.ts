import { EncodedL1Entry } from './cache-entry';
import { jsonSerializer } from './serialization/serializer';

describe(EncodedL1Entry.name, () => {
  const counting = () => {
    const calls: string[] = [];
    return { calls, serializer: { decode: (text: string) => (calls.push(text), jsonSerializer.decode(text)) } };
  };

  it('decodes on the first read of its value, once, and keeps that value', () => {
    const { calls, serializer } = counting();
    const text = jsonSerializer.encode({ at: new Date(5), n: [1, 2] });
    const entry = new EncodedL1Entry(text, serializer, 10, 20, ['t'], 30);
    expect(calls).toEqual([]);
    const first = entry.value as { at: Date; n: number[] };
    expect(first).toEqual({ at: new Date(5), n: [1, 2] });
    expect(entry.value).toBe(first);
    expect(calls).toHaveLength(1);
    expect(entry).toMatchObject({ expiresAt: 10, graceUntil: 20, tags: ['t'], ttlMs: 30 });
  });

  it('takes a value set on it without decoding', () => {
    const { calls, serializer } = counting();
    const entry = new EncodedL1Entry(jsonSerializer.encode('old'), serializer, 0, 0, [], 0);
    entry.value = 'new';
    expect(entry.value).toBe('new');
    expect(calls).toEqual([]);
  });

  it('keeps undefined (a stored undefined) apart from "not decoded yet"', () => {
    const { calls, serializer } = counting();
    const entry = new EncodedL1Entry(jsonSerializer.encode(undefined), serializer, 0, 0, [], 0);
    expect(entry.value).toBeUndefined();
    expect(entry.value).toBeUndefined();
    expect(calls).toHaveLength(1);
  });
});
