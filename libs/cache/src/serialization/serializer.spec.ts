import fc from 'fast-check';
import { CacheSerializationError } from '../cache.errors';
import { encodeWithLimit, jsonSerializer, type Serializer } from './serializer';

const roundTrip = (value: unknown): unknown => jsonSerializer.decode(jsonSerializer.encode(value));

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the action to throw');
}

function kindOf(value: object): string {
  if (Buffer.isBuffer(value)) return 'Buffer';
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Uint8Array.prototype) return 'Uint8Array';
  if (proto === Array.prototype) return 'Array';
  if (proto === Date.prototype) return 'Date';
  if (proto === Map.prototype) return 'Map';
  if (proto === Set.prototype) return 'Set';
  if (proto === Object.prototype || proto === null) return 'Object';
  return 'unsupported';
}

const show = (v: unknown): string =>
  Object.is(v, -0) ? '-0' : typeof v === 'bigint' ? `${v}n` : typeof v === 'string' ? JSON.stringify(v) : String(v);

/**
 * First difference between a decoded value and the original, or undefined. Stricter than toStrictEqual:
 * -0 vs 0, Map/Set/key order, Buffer vs Uint8Array, holes, and decoded objects must be Object.prototype.
 */
function difference(actual: unknown, expected: unknown, path = 'value'): string | undefined {
  if (typeof expected !== 'object' || expected === null || typeof actual !== 'object' || actual === null) {
    return Object.is(actual, expected) ? undefined : `${path}: got ${show(actual)}, want ${show(expected)}`;
  }
  const kind = kindOf(expected);
  if (kindOf(actual) !== kind) return `${path}: got a ${kindOf(actual)}, want a ${kind}`;
  const a = actual as any;
  const e = expected as any;
  switch (kind) {
    case 'Date':
      return difference(a.getTime(), e.getTime(), `${path}.getTime()`);
    case 'Buffer':
    case 'Uint8Array':
      return Buffer.from(a).equals(Buffer.from(e)) ? undefined : `${path}: bytes differ`;
    case 'Map':
    case 'Set':
      return differenceInList([...a], [...e], path);
    case 'Array':
      return differenceInList(a, e, path);
    default:
      if (Object.getPrototypeOf(a) !== Object.prototype) return `${path}: decoded object is not a plain object`;
      return (
        difference(Object.keys(a).join('\0'), Object.keys(e).join('\0'), `${path} keys`) ??
        Object.keys(e)
          .map((key) => difference(a[key], e[key], `${path}[${JSON.stringify(key)}]`))
          .find((d) => d !== undefined)
      );
  }
}

function differenceInList(actual: unknown[], expected: unknown[], path: string): string | undefined {
  if (actual.length !== expected.length) return `${path}: length ${actual.length}, want ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    if (i in actual !== i in expected) return `${path}[${i}]: hole mismatch`;
    const d = difference(actual[i], expected[i], `${path}[${i}]`);
    if (d !== undefined) return d;
  }
  return undefined;
}

class Point {
  constructor(readonly x: number) {}
}
class StampedDate extends Date {}

describe('jsonSerializer', () => {
  describe('round-trips', () => {
    it.each<[string, unknown]>([
      ['a string', 'hello'],
      ['an empty string', ''],
      ['a number', 42.5],
      ['true', true],
      ['null', null],
      ['undefined', undefined],
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity],
      ['-0', -0],
      ['a bigint', 123456789012345678901234567890n],
      ['a negative bigint', -42n],
      ['a Date', new Date('2024-02-29T12:34:56.789Z')],
      ['the earliest Date', new Date(-8.64e15)],
      ['an invalid Date', new Date(NaN)],
      [
        'a Map with non-string keys',
        new Map<unknown, unknown>([
          [1, 'a'],
          [{ k: 1 }, new Date(0)],
          [undefined, null],
        ]),
      ],
      ['a Set', new Set([3, 1, 2, 'x', undefined])],
      ['a Buffer', Buffer.from([0, 1, 254, 255])],
      ['a Uint8Array', new Uint8Array([9, 8, 7])],
      ['an empty Uint8Array', new Uint8Array(0)],
      ['a nested structure', { user: { tags: ['a', 'b'], seen: new Set([new Date(1)]), meta: { n: [1, [2, [3]]] } } }],
      ['an object with undefined values', { a: undefined, b: 1, c: undefined }],
      ['arrays of undefined', [undefined, [undefined], undefined]],
      ['a lone surrogate', 'a\ud800b'],
      ['multi-byte text', 'é€😀'],
      ['integer-like keys', { 10: 'a', 2: 'b', x: 'c' }],
    ])('%s', (_name, value) => {
      expect(difference(roundTrip(value), value)).toBeUndefined();
    });

    it('keeps a key whose value is undefined', () => {
      const decoded = roundTrip({ a: undefined }) as Record<string, unknown>;
      expect(Object.keys(decoded)).toEqual(['a']);
      expect(decoded.a).toBeUndefined();
    });

    it('encodes top-level undefined as a string that decodes to undefined', () => {
      const text = jsonSerializer.encode(undefined);
      expect(typeof text).toBe('string');
      expect(jsonSerializer.decode(text)).toBeUndefined();
    });

    it('keeps Buffer and Uint8Array apart', () => {
      expect(Buffer.isBuffer(roundTrip(Buffer.from('hi')))).toBe(true);
      const bytes = roundTrip(new Uint8Array([1, 2]));
      expect(Buffer.isBuffer(bytes)).toBe(false);
      expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
    });

    it('stores only the bytes a Uint8Array view covers', () => {
      const view = new Uint8Array([1, 2, 3, 4, 5]).subarray(1, 3);
      expect(Array.from(roundTrip(view) as Uint8Array)).toEqual([2, 3]);
    });

    it('keeps Map and Set insertion order', () => {
      expect([
        ...(
          roundTrip(
            new Map([
              ['z', 1],
              ['a', 2],
            ]),
          ) as Map<string, number>
        ).keys(),
      ]).toEqual(['z', 'a']);
      expect([...(roundTrip(new Set([3, 1, 2])) as Set<number>)]).toEqual([3, 1, 2]);
    });

    it('writes a value with nothing to tag as plain JSON', () => {
      const plain = { a: [1, 'x', null, true, { b: -1.5 }], c: {} };
      expect(jsonSerializer.encode(plain)).toBe(JSON.stringify(plain));
    });

    it('keeps the stored format stable', () => {
      // Values written by one deploy are read by the next: changing this string is a breaking change.
      const text = jsonSerializer.encode({ at: new Date(0), n: 1n, u: undefined, x: -0, m: new Map([['k', NaN]]) });
      expect(text).toBe(
        '{"at":{"$t":"d","v":0},"n":{"$t":"b","v":"1"},"u":{"$t":"u"},"x":{"$t":"n","v":"-0"},' +
          '"m":{"$t":"m","v":["k",{"$t":"n","v":"NaN"}]}}',
      );
    });

    it('stores a shared (non-circular) reference twice and returns two copies', () => {
      const shared = { n: 1 };
      const decoded = roundTrip({ a: shared, b: shared }) as { a: object; b: object };
      expect(decoded.a).toEqual(shared);
      expect(decoded.b).toEqual(shared);
      expect(decoded.a).not.toBe(decoded.b);
    });

    it('returns a null-prototype object as a plain object', () => {
      const input = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, d: new Date(5) });
      const decoded = roundTrip(input);
      expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
      expect(difference(decoded, input)).toBeUndefined();
    });

    it('returns array holes as undefined elements', () => {
      // eslint-disable-next-line no-sparse-arrays
      const decoded = roundTrip([1, , 3]) as unknown[];
      expect(decoded).toHaveLength(3);
      expect(1 in decoded).toBe(true);
      expect(decoded[1]).toBeUndefined();
    });

    it('does not modify the value it encodes', () => {
      const deepFreeze = <T>(v: T): T => {
        if (typeof v === 'object' && v !== null) Object.values(Object.freeze(v)).forEach(deepFreeze);
        return v;
      };
      const value = deepFreeze({ $t: 'x', a: [undefined, { b: new Date(0) }], c: { d: 1n } });
      expect(difference(roundTrip(value), value)).toBeUndefined();
    });
  });

  describe('marker look-alikes', () => {
    it.each<[string, unknown]>([
      ['the marker as a string', '$t'],
      ['an encoded tag as a string', '{"$t":"u"}'],
      ['an encoded tag as a nested string', { s: '{"$t":"d","v":0}', l: ['{"$t":"o","v":{}}'] }],
      ['an object shaped like the undefined tag', { $t: 'u' }],
      ['an object shaped like a Date tag', { $t: 'd', v: 0 }],
      ['an object shaped like an escape', { $t: 'o', v: { a: 1 } }],
      ['nested look-alikes', { $t: { $t: 'n', v: 'NaN' }, v: [{ $t: 'b', v: '1' }] }],
      ['a look-alike with special values inside', { $t: undefined, v: new Map([[{ $t: 'm' }, -0]]) }],
    ])('%s stays what it was', (_name, value) => {
      expect(difference(roundTrip(value), value)).toBeUndefined();
    });

    it('escapes an object that owns the marker key', () => {
      expect(jsonSerializer.encode({ $t: 'u' })).toBe('{"$t":"o","v":{"$t":"u"}}');
    });
  });

  describe('__proto__ keys', () => {
    const prototypeKeys = Object.getOwnPropertyNames(Object.prototype);

    afterEach(() => {
      expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeKeys);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('round-trips an own __proto__ key as data', () => {
      const input = JSON.parse('{"__proto__": {"polluted": true}, "u": null}') as Record<string, unknown>;
      input.u = undefined; // forces the copy-on-write path
      const decoded = roundTrip(input) as Record<string, unknown>;
      expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
      expect(Object.keys(decoded)).toEqual(['__proto__', 'u']);
      expect(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value).toEqual({ polluted: true });
    });

    it.each([
      ['a tagged value under __proto__', '{"__proto__":{"$t":"d","v":0}}'],
      ['__proto__ inside an escaped object', '{"$t":"o","v":{"$t":1,"__proto__":{"$t":"u"}}}'],
    ])('decodes %s as an own property', (_name, text) => {
      const decoded = jsonSerializer.decode(text) as object;
      expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
      expect(Object.hasOwn(decoded, '__proto__')).toBe(true);
    });

    it('keeps __proto__ as an ordinary Map key', () => {
      const decoded = roundTrip(new Map([['__proto__', { polluted: true }]])) as Map<string, unknown>;
      expect(decoded.get('__proto__')).toEqual({ polluted: true });
    });
  });

  describe('refuses', () => {
    const closure = (): number => 1;
    it.each<[string, unknown, string]>([
      ['a nested function', { user: { callback: closure } }, 'value.user.callback is a function'],
      ['a top-level function', closure, 'value is a function'],
      ['a symbol', { list: [1, Symbol('s')] }, 'value.list[1] is a symbol'],
      ['a symbol key', { a: { [Symbol('k')]: 1 } }, 'value.a has a symbol key Symbol(k)'],
      ['a WeakMap', { w: new WeakMap() }, 'value.w is an instance of WeakMap'],
      ['a WeakSet', [new WeakSet()], 'value[0] is an instance of WeakSet'],
      ['a Promise', { p: Promise.resolve(1) }, 'value.p is an instance of Promise'],
      ['a class instance', { 'first name': new Point(1) }, 'value["first name"] is an instance of Point'],
      ['a Date subclass', new StampedDate(0), 'value is an instance of StampedDate'],
      ['an Error', { e: new Error('x') }, 'value.e is an instance of Error'],
      ['a RegExp', /x/, 'value is an instance of RegExp'],
      ['a boxed string', { s: new String('x') }, 'value.s is an instance of String'],
      ['another typed array', new Uint16Array(2), 'value is an instance of Uint16Array'],
      [
        'an object with a custom prototype',
        Object.create({ inherited: 1 }),
        'value is an object with a custom prototype',
      ],
      ['a function as a Map value', new Map([['k', closure]]), 'value.get("k") is a function'],
      ['a function as a Map key', new Map([[closure, 1]]), 'value.keys()[0] is a function'],
      ['a symbol in a Set', new Set([1, Symbol('s')]), 'value.values()[1] is a symbol'],
    ])('%s', (_name, value, message) => {
      const error = thrown(() => jsonSerializer.encode(value));
      expect(error).toBeInstanceOf(CacheSerializationError);
      expect(error).toMatchObject({ code: 'E_CACHE_SERIALIZATION' });
      expect((error as Error).message).toContain(message);
    });

    it.each<[string, () => unknown, string]>([
      [
        'an object referring to itself',
        () => {
          const a: Record<string, unknown> = {};
          a.self = a;
          return a;
        },
        'value.self is a circular reference to value',
      ],
      [
        'a cycle through an array',
        () => {
          const child: Record<string, unknown> = {};
          const parent = { list: [child] };
          child.parent = parent;
          return { root: parent };
        },
        'value.root.list[0].parent is a circular reference to value.root',
      ],
      [
        'a Map containing itself',
        () => {
          const m = new Map<string, unknown>();
          m.set('me', m);
          return m;
        },
        'value.get("me") is a circular reference to value',
      ],
      [
        'a Set containing itself',
        () => {
          const s = new Set<unknown>();
          s.add(s);
          return [s];
        },
        'value[0].values()[0] is a circular reference to value[0]',
      ],
    ])('%s', (_name, build, message) => {
      const error = thrown(() => jsonSerializer.encode(build()));
      expect(error).toBeInstanceOf(CacheSerializationError);
      expect(error).toMatchObject({ code: 'E_CACHE_SERIALIZATION', message });
    });

    it('a value whose getter throws, keeping the cause', () => {
      const cause = new Error('nope');
      const value = {
        a: {
          get boom(): never {
            throw cause;
          },
        },
      };
      const error = thrown(() => jsonSerializer.encode(value));
      expect(error).toBeInstanceOf(CacheSerializationError);
      expect(error).toMatchObject({
        code: 'E_CACHE_SERIALIZATION',
        message: 'value.a could not be encoded: nope',
        cause,
      });
    });

    it('nesting too deep for the stack, in both directions', () => {
      let deep: unknown[] = [];
      for (let i = 0; i < 200_000; i++) deep = [deep];
      const encodeError = thrown(() => jsonSerializer.encode(deep));
      expect(encodeError).toBeInstanceOf(CacheSerializationError);
      expect((encodeError as Error).message.length).toBeLessThan(300);
      const text = '['.repeat(200_000) + ']'.repeat(200_000);
      expect(thrown(() => jsonSerializer.decode(text))).toBeInstanceOf(CacheSerializationError);
    });
  });

  describe('decoding malformed input', () => {
    it.each([
      ['not JSON', 'not json'],
      ['an empty string', ''],
      ['truncated JSON', '{"a":'],
      ['an unknown tag', '{"$t":"zz","v":1}'],
      ['a non-string tag', '{"$t":1,"v":1}'],
      ['undefined with a payload', '{"$t":"u","v":1}'],
      ['a tag without payload', '{"$t":"d"}'],
      ['a tag with an extra key', '{"$t":"d","v":0,"x":1}'],
      ['an unknown special number', '{"$t":"n","v":"1"}'],
      ['a fractional bigint', '{"$t":"b","v":"1.5"}'],
      ['a numeric bigint payload', '{"$t":"b","v":12}'],
      ['a string Date', '{"$t":"d","v":"2020-01-01"}'],
      ['a fractional Date', '{"$t":"d","v":1.5}'],
      ['an out-of-range Date', '{"$t":"d","v":9e15}'],
      ['an odd Map payload', '{"$t":"m","v":[1]}'],
      ['an object Map payload', '{"$t":"m","v":{}}'],
      ['a non-array Set payload', '{"$t":"s","v":1}'],
      ['non-base64 bytes', '{"$t":"buf","v":"@@@@"}'],
      ['unpadded base64', '{"$t":"u8","v":"abc"}'],
      ['an array as escaped object', '{"$t":"o","v":[]}'],
      ['null as escaped object', '{"$t":"o","v":null}'],
      ['a bad tag deep inside', '{"a":[1,{"b":{"$t":"zz","v":0}}]}'],
      ['a bad tag inside a Map', '{"$t":"m","v":["k",{"$t":"n","v":"x"}]}'],
    ])('%s', (_name, text) => {
      const error = thrown(() => jsonSerializer.decode(text));
      expect(error).toBeInstanceOf(CacheSerializationError);
      expect(error).toMatchObject({ code: 'E_CACHE_SERIALIZATION' });
    });

    it('refuses a non-string', () => {
      expect(thrown(() => jsonSerializer.decode(42 as unknown as string))).toBeInstanceOf(CacheSerializationError);
    });

    it('keeps the JSON.parse error as the cause', () => {
      expect(thrown(() => jsonSerializer.decode('{'))).toMatchObject({ cause: expect.any(SyntaxError) });
    });
  });

  describe('properties', () => {
    const markerStrings = fc.constantFrom('$t', 'v', 'o', 'u', '{"$t":"u"}', '{"$t":"n","v":"NaN"}', '__proto__');
    const key = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 6 }),
      fc.constantFrom('$t', 'v', '__proto__', 'constructor', 'toJSON', 'valueOf', '0', '7', ''),
    );
    const leaves = [
      fc.string({ unit: 'binary' }),
      markerStrings,
      fc.double(), // includes -0, NaN and ±Infinity
      fc.constantFrom(0, -0, NaN, Infinity, -Infinity),
      fc.integer(),
      fc.bigInt(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.date({ noInvalidDate: true }),
      fc.constant(null).map(() => new Date(NaN)),
      fc.uint8Array({ maxLength: 12 }),
      fc.uint8Array({ minLength: 1, maxLength: 12 }).map((bytes) => bytes.subarray(1)),
      fc.uint8Array({ maxLength: 12 }).map((bytes) => Buffer.from(bytes)),
    ];

    const { value } = fc.letrec<{
      value: unknown;
      array: unknown[];
      object: Record<string, unknown>;
      map: Map<unknown, unknown>;
      set: Set<unknown>;
    }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.oneof(...leaves),
        tie('array'),
        tie('object'),
        tie('map'),
        tie('set'),
      ),
      array: fc.array(tie('value'), { maxLength: 5 }),
      object: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
      map: fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 4 }).map((entries) => new Map(entries)),
      set: fc.array(tie('value'), { maxLength: 4 }).map((items) => new Set(items)),
    }));

    const anything = fc.anything({
      key,
      values: leaves,
      maxDepth: 4,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
    });

    it('decode(encode(v)) equals v for generated nested values', () => {
      fc.assert(
        fc.property(fc.oneof(value, anything), (v) => {
          expect(difference(roundTrip(v), v)).toBeUndefined();
        }),
        { numRuns: 1000 },
      );
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('decode throws nothing but CacheSerializationError on arbitrary input', () => {
      const tag = fc.constantFrom('u', 'n', 'b', 'd', 'm', 's', 'buf', 'u8', 'o', 'zz');
      const tagged = fc.record({ $t: tag, v: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: ['$t'] });
      const text = fc.oneof(
        fc.string(),
        fc.json(),
        tagged.map((node) => JSON.stringify(node)),
        fc.array(tagged).map((nodes) => JSON.stringify({ nested: nodes })),
      );
      fc.assert(
        fc.property(text, (t) => {
          try {
            jsonSerializer.decode(t);
          } catch (error) {
            expect(error).toBeInstanceOf(CacheSerializationError);
          }
        }),
        { numRuns: 1000 },
      );
    });
  });
});

describe(encodeWithLimit.name, () => {
  it('accepts a value of exactly maxBytes and refuses one byte more', () => {
    expect(encodeWithLimit(jsonSerializer, 'abc', 5)).toEqual({ text: '"abc"', bytes: 5 });
    const error = thrown(() => encodeWithLimit(jsonSerializer, 'abcd', 5));
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect(error).toMatchObject({
      code: 'E_CACHE_TOO_LARGE',
      message: 'Encoded value is 6 bytes, over the limit of 5 bytes',
    });
  });

  it('counts UTF-8 bytes, not UTF-16 code units', () => {
    // '"é€😀"' is 6 code units but 1 + 2 + 3 + 4 + 1 = 11 bytes.
    expect(encodeWithLimit(jsonSerializer, 'é€😀', 11)).toEqual({ text: '"é€😀"', bytes: 11 });
    expect(thrown(() => encodeWithLimit(jsonSerializer, 'é€😀', 10))).toMatchObject({ code: 'E_CACHE_TOO_LARGE' });
  });

  it('uses the serializer it is given', () => {
    const fixed: Serializer = { encode: () => 'xyz', decode: () => undefined };
    expect(encodeWithLimit(fixed, { ignored: true }, 3)).toEqual({ text: 'xyz', bytes: 3 });
  });

  it('passes unsupported values through as E_CACHE_SERIALIZATION', () => {
    const error = thrown(() => encodeWithLimit(jsonSerializer, { f: () => 1 }, 1000));
    expect(error).toMatchObject({ code: 'E_CACHE_SERIALIZATION', message: 'value.f is a function' });
  });

  it.each([NaN, -1])('rejects a maxBytes of %p as a configuration error', (maxBytes) => {
    expect(() => encodeWithLimit(jsonSerializer, 1, maxBytes)).toThrow(RangeError);
  });
});

describe(CacheSerializationError.name, () => {
  it('defaults to E_CACHE_SERIALIZATION and keeps the cause', () => {
    const cause = new Error('inner');
    const error = new CacheSerializationError('outer', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'CacheSerializationError', code: 'E_CACHE_SERIALIZATION', cause });
    expect(new CacheSerializationError('big', { code: 'E_CACHE_TOO_LARGE' }).code).toBe('E_CACHE_TOO_LARGE');
  });
});

describe(difference.name, () => {
  // The property test is only as strict as this comparison.
  it.each<[string, unknown, unknown]>([
    ['-0 and 0', -0, 0],
    ['a missing key and an undefined one', {}, { a: undefined }],
    ['key order', { a: 1, b: 2 }, { b: 2, a: 1 }],
    ['Buffer and Uint8Array', Buffer.from([1]), new Uint8Array([1])],
    [
      'Map order',
      new Map([
        [1, 1],
        [2, 2],
      ]),
      new Map([
        [2, 2],
        [1, 1],
      ]),
    ],
    ['Set order', new Set([1, 2]), new Set([2, 1])],
    ['dates', new Date(1), new Date(2)],
    ['a hole and undefined', [undefined], new Array(1)],
    ['a non-plain decoded object', new Point(1), { x: 1 }],
  ])('tells apart %s', (_name, actual, expected) => {
    expect(difference(actual, expected)).toBeDefined();
  });

  it('treats NaN as equal to NaN and invalid Dates as equal', () => {
    expect(difference([NaN, new Date(NaN)], [NaN, new Date(NaN)])).toBeUndefined();
  });
});
