import { formatEnvelope, parseEnvelope, type Envelope } from './envelope';

const envelope: Envelope = {
  created: 1_733_000_000_000,
  expires: 1_733_000_060_000,
  graceUntil: 1_733_000_090_000,
  schema: '1',
  tags: ['ns.users', 'user:7'],
  payload: '{"name":"Ada"}',
};

describe(formatEnvelope.name, () => {
  it('writes the documented layout', () => {
    expect(formatEnvelope(envelope)).toBe(
      'v1|1733000000000|1733000060000|1733000090000|1|ns.users,user:7\n{"name":"Ada"}',
    );
  });

  it('writes an empty tag list as an empty field', () => {
    expect(formatEnvelope({ ...envelope, tags: [] })).toBe(
      'v1|1733000000000|1733000060000|1733000090000|1|\n{"name":"Ada"}',
    );
  });
});

describe(parseEnvelope.name, () => {
  it('reads back what formatEnvelope wrote', () => {
    expect(parseEnvelope(formatEnvelope(envelope))).toEqual(envelope);
    expect(parseEnvelope(formatEnvelope({ ...envelope, tags: [] }))).toEqual({ ...envelope, tags: [] });
    expect(parseEnvelope(formatEnvelope({ ...envelope, payload: '' }))).toEqual({ ...envelope, payload: '' });
  });

  it('keeps newlines and separators inside the payload', () => {
    const payload = 'line 1\nline 2|with,separators\nv1|1|2|3|1|\n';
    expect(parseEnvelope(formatEnvelope({ ...envelope, payload }))?.payload).toBe(payload);
  });

  it('reads the schema version as written, for the caller to compare', () => {
    expect(parseEnvelope(formatEnvelope({ ...envelope, schema: '2.beta_x-1' }))?.schema).toBe('2.beta_x-1');
  });

  it('reads the header the Lua scripts write', () => {
    expect(parseEnvelope('v1|100|200|300|1|ns.default\n"v"')).toEqual({
      created: 100,
      expires: 200,
      graceUntil: 300,
      schema: '1',
      tags: ['ns.default'],
      payload: '"v"',
    });
  });

  it('treats a delete tombstone as no entry', () => {
    expect(parseEnvelope('x|1733000000000')).toBeUndefined();
  });

  it.each([
    ['another format version', 'v2|1|2|3|1|\npayload'],
    ['a foreign value', '{"json":"from another app"}'],
    ['an empty string', ''],
    ['a header without payload separator', 'v1|1|2|3|1|t'],
    ['too few header fields', 'v1|1|2|3|1\npayload'],
    ['too many header fields', 'v1|1|2|3|1|t|extra\npayload'],
    ['a time that is not a number', 'v1|abc|2|3|1|\npayload'],
    ['an empty time', 'v1|1||3|1|\npayload'],
    ['a grace time that is not a number', 'v1|1|2|later|1|\npayload'],
  ])('refuses %s', (_, raw) => {
    expect(parseEnvelope(raw)).toBeUndefined();
  });
});
