import { CacheSerializationError } from '../cache.errors';

/** Turns cache values into the strings stored in Redis (L2) and back. */
export interface Serializer {
  /**
   * Encodes a value to a string. Throws CacheSerializationError (E_CACHE_SERIALIZATION) for
   * unsupported values; the message names the path, e.g. `value.user.callback is a function`.
   */
  encode(value: unknown): string;
  /**
   * Decodes what encode produced. Throws CacheSerializationError on malformed input.
   * Must give the same value for the same text every time: the L1 copy of an L2 hit
   * is kept as text and decoded again on its first L1 hit (`EncodedL1Entry`).
   */
  decode(text: string): unknown;
}

/*
 * Format: JSON in which every value JSON cannot carry becomes a tagged node `{"$t": <tag>, "v": <payload>}`.
 * A plain object that itself owns a `$t` key is wrapped as `{"$t":"o","v":{...}}`, so a node with `$t`
 * is always a tag. Strings never need escaping: a tag is an object, and a string is never an object.
 *
 * Both directions walk the tree by hand rather than through a JSON.stringify replacer (which sees a Date
 * only after its toJSON ran) and copy on write: a value with nothing to tag costs one walk plus one
 * JSON.stringify, and decoding one JSON.parse plus one walk that mutates the freshly parsed tree.
 */
const TAG = '$t';
const PAYLOAD = 'v';
const ROOT = 'value';
const UNDEFINED_NODE = Object.freeze({ [TAG]: 'u' });
const SUPPORTED = 'plain objects, arrays, Date, Map, Set, Buffer, Uint8Array';
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
// ECMAScript's Date range; getTime() of a valid Date is always an integer within it.
const MAX_DATE_MS = 8.64e15;

/** Where a value sits below the root; only formatted when an error needs it. */
type PathSegment = string | number | { kind: 'mapKey' | 'mapValue' | 'setValue'; index: number; key?: unknown };

interface EncodeContext {
  /** Segments from the root down to the container being walked. */
  readonly path: PathSegment[];
  /** Containers on the current path with their index in `path`: what a cycle would point back to. */
  readonly ancestors: Map<object, number>;
}

function encodeNode(value: unknown, segment: PathSegment, ctx: EncodeContext): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // JSON.stringify would silently write NaN and ±Infinity as null, and -0 as 0.
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return { [TAG]: 'n', [PAYLOAD]: Object.is(value, -0) ? '-0' : String(value) };
    case 'undefined':
      return UNDEFINED_NODE;
    case 'bigint':
      return { [TAG]: 'b', [PAYLOAD]: value.toString() };
    case 'object':
      return value === null ? null : encodeObject(value, segment, ctx);
    default:
      return fail(ctx, segment, `is a ${typeof value}`);
  }
}

function encodeObject(value: object, segment: PathSegment, ctx: EncodeContext): unknown {
  // Exact prototype checks: a subclass (or any other class) would come back as its base type, so refuse it.
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    return encodePlainObject(value as Record<string, unknown>, segment, ctx);
  }
  if (proto === Array.prototype) return encodeArray(value as unknown[], segment, ctx);
  if (proto === Date.prototype) {
    const time = (value as Date).getTime();
    // An invalid Date round-trips as an invalid Date rather than being refused: it is a legal Date value.
    return { [TAG]: 'd', [PAYLOAD]: Number.isNaN(time) ? null : time };
  }
  if (proto === Map.prototype) return encodeMap(value as Map<unknown, unknown>, segment, ctx);
  if (proto === Set.prototype) return encodeSet(value as Set<unknown>, segment, ctx);
  if (Buffer.isBuffer(value)) return { [TAG]: 'buf', [PAYLOAD]: value.toString('base64') };
  if (proto === Uint8Array.prototype) {
    const bytes = value as Uint8Array;
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { [TAG]: 'u8', [PAYLOAD]: view.toString('base64') };
  }
  return fail(
    ctx,
    segment,
    `is ${describeInstance(proto as object)}, which the cache cannot store (supported: ${SUPPORTED})`,
  );
}

function describeInstance(proto: object): string {
  // Own `constructor` only: Object.create({}) inherits Object's and would read as "an instance of Object".
  const ctor: unknown = Object.hasOwn(proto, 'constructor')
    ? (proto as { constructor: unknown }).constructor
    : undefined;
  const name = typeof ctor === 'function' ? ctor.name : '';
  return name !== '' ? `an instance of ${name}` : 'an object with a custom prototype';
}

function encodePlainObject(value: Record<string, unknown>, segment: PathSegment, ctx: EncodeContext): unknown {
  const symbol = Object.getOwnPropertySymbols(value).find((s) => Object.prototype.propertyIsEnumerable.call(value, s));
  // JSON would drop it silently; refusing keeps "what you get back is what you stored" true.
  if (symbol !== undefined) fail(ctx, segment, `has a symbol key ${String(symbol)}`);
  enter(ctx, value, segment);
  const keys = Object.keys(value);
  let copy: Record<string, unknown> | undefined;
  let hasTagKey = false;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const child = value[key];
    const encoded = encodeNode(child, key, ctx);
    if (key === TAG) hasTagKey = true;
    if (copy === undefined && encoded !== child) copy = copyKeys(value, keys, i);
    if (copy !== undefined) copy[key] = encoded;
  }
  leave(ctx, value);
  const result = copy ?? value;
  return hasTagKey ? { [TAG]: 'o', [PAYLOAD]: result } : result;
}

/** Copies the first `count` properties, which encoded to themselves, into a fresh object. */
function copyKeys(value: Record<string, unknown>, keys: string[], count: number): Record<string, unknown> {
  // Null prototype: assigning a `__proto__` key then creates an own property instead of calling the setter.
  const copy = Object.create(null) as Record<string, unknown>;
  for (let j = 0; j < count; j++) copy[keys[j]] = value[keys[j]];
  return copy;
}

function encodeArray(value: unknown[], segment: PathSegment, ctx: EncodeContext): unknown[] {
  enter(ctx, value, segment);
  let copy: unknown[] | undefined;
  // Index loop rather than for..of: a hole reads as undefined and is stored as undefined.
  for (let i = 0; i < value.length; i++) {
    const child = value[i];
    const encoded = encodeNode(child, i, ctx);
    if (copy === undefined && encoded !== child) copy = value.slice(0, i);
    if (copy !== undefined) copy.push(encoded);
  }
  leave(ctx, value);
  return copy ?? value;
}

function encodeMap(value: Map<unknown, unknown>, segment: PathSegment, ctx: EncodeContext): unknown {
  enter(ctx, value, segment);
  // Flat [k0, v0, k1, v1, ...]: keeps insertion order and allows any key type.
  const flat: unknown[] = [];
  let index = 0;
  for (const [key, entry] of value) {
    flat.push(encodeNode(key, { kind: 'mapKey', index }, ctx));
    flat.push(encodeNode(entry, { kind: 'mapValue', index, key }, ctx));
    index++;
  }
  leave(ctx, value);
  return { [TAG]: 'm', [PAYLOAD]: flat };
}

function encodeSet(value: Set<unknown>, segment: PathSegment, ctx: EncodeContext): unknown {
  enter(ctx, value, segment);
  const elements: unknown[] = [];
  let index = 0;
  for (const element of value) elements.push(encodeNode(element, { kind: 'setValue', index: index++ }, ctx));
  leave(ctx, value);
  return { [TAG]: 's', [PAYLOAD]: elements };
}

function enter(ctx: EncodeContext, container: object, segment: PathSegment): void {
  // Only ancestors count: the same object twice side by side is fine (it is stored, and comes back, twice).
  const ancestor = ctx.ancestors.get(container);
  if (ancestor !== undefined) {
    fail(ctx, segment, `is a circular reference to ${formatPath(ctx.path.slice(0, ancestor + 1))}`);
  }
  ctx.ancestors.set(container, ctx.path.length);
  ctx.path.push(segment);
}

function leave(ctx: EncodeContext, container: object): void {
  ctx.path.pop();
  ctx.ancestors.delete(container);
}

function fail(ctx: EncodeContext, segment: PathSegment, what: string): never {
  throw new CacheSerializationError(`${formatPath([...ctx.path, segment])} ${what}`);
}

/** `value.user["first name"][2]`; the middle of a very deep path is elided to keep messages loggable. */
function formatPath(segments: readonly PathSegment[]): string {
  const parts = segments.map((segment, i) =>
    i === 0 && typeof segment === 'string' ? segment : formatSegment(segment),
  );
  return parts.length <= 24 ? parts.join('') : `${parts.slice(0, 12).join('')}…${parts.slice(-12).join('')}`;
}

function formatSegment(segment: PathSegment): string {
  if (typeof segment === 'number') return `[${segment}]`;
  if (typeof segment === 'string') return IDENTIFIER.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`;
  if (segment.kind === 'mapKey') return `.keys()[${segment.index}]`;
  if (segment.kind === 'setValue') return `.values()[${segment.index}]`;
  const key = segment.key;
  return typeof key === 'string' || typeof key === 'number'
    ? `.get(${JSON.stringify(key)})`
    : `.values()[${segment.index}]`;
}

function decodeNode(node: unknown): unknown {
  if (typeof node !== 'object' || node === null) return node;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) node[i] = decodeNode(node[i]);
    return node;
  }
  const record = node as Record<string, unknown>;
  if (Object.hasOwn(record, TAG)) return decodeTagged(record);
  decodeProperties(record);
  return record;
}

/** Decodes the properties of an object that JSON.parse created, in place. */
function decodeProperties(record: Record<string, unknown>): void {
  // for..in, not Object.keys: no key array per object (this walk runs on every L2 hit).
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const child = record[key];
    if (typeof child !== 'object' || child === null) continue;
    const decoded = decodeNode(child);
    if (decoded === child) continue;
    // JSON.parse made `__proto__` an own data property, so plain assignment would already hit it;
    // defineProperty says so explicitly instead of relying on that.
    if (key === '__proto__') Object.defineProperty(record, key, { value: decoded, writable: true, enumerable: true });
    else record[key] = decoded;
  }
}

function decodeTagged(node: Record<string, unknown>): unknown {
  const tag = node[TAG];
  const keyCount = Object.keys(node).length;
  if (tag === 'u' && keyCount === 1) return undefined;
  if (keyCount !== 2 || !Object.hasOwn(node, PAYLOAD))
    throw malformed(`tagged node ${preview(tag)} has unexpected keys`);
  const payload = node[PAYLOAD];
  switch (tag) {
    case 'u':
      throw malformed('undefined carries no payload');
    case 'n':
      return decodeSpecialNumber(payload);
    case 'b':
      if (typeof payload !== 'string' || !/^-?\d+$/.test(payload)) throw malformed('bigint payload is not an integer');
      return BigInt(payload);
    case 'd':
      return decodeDate(payload);
    case 'm':
      return decodeMap(payload);
    case 's':
      if (!Array.isArray(payload)) throw malformed('Set payload is not an array');
      return new Set(payload.map(decodeNode));
    case 'buf':
      return Buffer.from(base64Payload(payload), 'base64');
    case 'u8':
      // Copied out of the Buffer so the caller gets exactly a Uint8Array, not a Buffer view of one.
      return new Uint8Array(Buffer.from(base64Payload(payload), 'base64'));
    case 'o':
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
        throw malformed('escaped object payload is not an object');
      }
      decodeProperties(payload as Record<string, unknown>);
      return payload;
    default:
      throw malformed(`unknown tag ${preview(tag)}`);
  }
}

function decodeSpecialNumber(payload: unknown): number {
  switch (payload) {
    case 'NaN':
      return NaN;
    case 'Infinity':
      return Infinity;
    case '-Infinity':
      return -Infinity;
    case '-0':
      return -0;
    default:
      throw malformed(`unknown special number ${preview(payload)}`);
  }
}

function decodeDate(payload: unknown): Date {
  if (payload === null) return new Date(NaN);
  if (typeof payload !== 'number' || !Number.isInteger(payload) || Math.abs(payload) > MAX_DATE_MS) {
    throw malformed('Date payload is not a valid timestamp');
  }
  return new Date(payload);
}

function decodeMap(payload: unknown): Map<unknown, unknown> {
  if (!Array.isArray(payload) || payload.length % 2 !== 0) throw malformed('Map payload is not a key/value array');
  const map = new Map<unknown, unknown>();
  for (let i = 0; i < payload.length; i += 2) map.set(decodeNode(payload[i]), decodeNode(payload[i + 1]));
  return map;
}

function base64Payload(payload: unknown): string {
  // Buffer.from(..., 'base64') skips garbage silently; corrupt bytes must not pass for data.
  if (typeof payload !== 'string' || payload.length % 4 !== 0 || !BASE64.test(payload)) {
    throw malformed('binary payload is not base64');
  }
  return payload;
}

function preview(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : typeof value;
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function malformed(detail: string): CacheSerializationError {
  return new CacheSerializationError(`Cached value is malformed: ${detail}`);
}

function encodeTaggedJson(value: unknown): string {
  const ctx: EncodeContext = { path: [], ancestors: new Map() };
  try {
    return JSON.stringify(encodeNode(value, ROOT, ctx));
  } catch (error) {
    if (error instanceof CacheSerializationError) throw error;
    // A throwing getter, or nesting deep enough to overflow the stack.
    const where = formatPath(ctx.path.length > 0 ? ctx.path : [ROOT]);
    throw new CacheSerializationError(`${where} could not be encoded: ${errorMessage(error)}`, { cause: error });
  }
}

function decodeTaggedJson(text: string): unknown {
  if (typeof text !== 'string') throw new CacheSerializationError(`Cached value is a ${typeof text}, not a string`);
  let tree: unknown;
  try {
    tree = JSON.parse(text);
  } catch (error) {
    throw new CacheSerializationError('Cached value is malformed: not valid JSON', { cause: error });
  }
  try {
    return decodeNode(tree);
  } catch (error) {
    if (error instanceof CacheSerializationError) throw error;
    throw new CacheSerializationError(`Cached value could not be decoded: ${errorMessage(error)}`, { cause: error });
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The default serializer: tagged JSON. Round-trips JSON values plus `undefined` (also as a property or
 * element), NaN, ±Infinity, -0, bigint, Date (an invalid Date stays invalid), Map and Set (in order),
 * Buffer and Uint8Array (kept distinct). Refuses functions, symbols (as values or keys), class instances
 * and cycles. Decoded objects are plain `Object.prototype` objects; a null prototype is not kept, nor are
 * shared references (each occurrence comes back as its own copy), array holes (they come back as
 * `undefined`), non-index array properties or non-enumerable properties. Getters are read while encoding.
 */
export const jsonSerializer: Serializer = Object.freeze({ encode: encodeTaggedJson, decode: decodeTaggedJson });

/**
 * Encodes and refuses the result when longer than `maxBytes` (UTF-8 byte length), with code
 * E_CACHE_TOO_LARGE and a message giving both sizes. A `maxBytes` of `Infinity` disables the limit.
 * @throws CacheSerializationError E_CACHE_SERIALIZATION from `serializer.encode`, or E_CACHE_TOO_LARGE.
 * @throws RangeError when `maxBytes` is negative or NaN (a configuration bug, not a value problem).
 */
export function encodeWithLimit(
  serializer: Serializer,
  value: unknown,
  maxBytes: number,
): { text: string; bytes: number } {
  if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be a non-negative number, got ${maxBytes}`);
  const text = serializer.encode(value);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    throw new CacheSerializationError(`Encoded value is ${bytes} bytes, over the limit of ${maxBytes} bytes`, {
      code: 'E_CACHE_TOO_LARGE',
    });
  }
  return { text, bytes };
}
