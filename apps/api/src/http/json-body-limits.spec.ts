import { findJsonBodyViolation, JsonBodyRejectedError } from './json-body-limits';

const limits = { maxDepth: 4, maxKeys: 3, maxTotalKeys: 5, maxArrayLength: 3 };

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

describe(findJsonBodyViolation.name, () => {
  it('accepts values within every limit, primitives and empty containers included', () => {
    for (const value of [null, 1, 'text', true, {}, [], { a: { b: [1, 2, { c: 'x' }] } }, nested(4)]) {
      expect(findJsonBodyViolation(value, limits)).toBeUndefined();
    }
  });

  it('refuses nesting one level past the limit with 400, however deep the value goes', () => {
    expect(findJsonBodyViolation(nested(5), limits)).toEqual({
      status: 400,
      message: 'The request body is nested deeper than 4 levels',
    });
    // Far past any call stack: the walk is iterative.
    expect(findJsonBodyViolation(nested(100_000), limits)?.status).toBe(400);
    expect(findJsonBodyViolation({ a: { b: { c: { d: {} } } } }, limits)?.status).toBe(400);
  });

  it('refuses an object with too many properties, and too many in all, with 413', () => {
    expect(findJsonBodyViolation({ a: 1, b: 2, c: 3, d: 4 }, limits)).toEqual({
      status: 413,
      message: 'An object in the request body has more than 3 properties',
    });
    expect(
      findJsonBodyViolation(
        [
          { a: 1, b: 2 },
          { c: 1, d: 2 },
          { e: 1, f: 2 },
        ],
        limits,
      ),
    ).toEqual({
      status: 413,
      message: 'The request body has more than 5 properties in all',
    });
  });

  it('refuses an array with too many elements with 413', () => {
    expect(findJsonBodyViolation({ list: [1, 2, 3, 4] }, limits)).toEqual({
      status: 413,
      message: 'An array in the request body has more than 3 elements',
    });
  });

  it('refuses a lone surrogate in a value or in a key with 400, and accepts a surrogate pair', () => {
    expect(findJsonBodyViolation({ email: 'a\ud800@example.com' }, limits)?.status).toBe(400);
    expect(findJsonBodyViolation({ ['\udc00']: 1 }, limits)?.message).toMatch(/not well-formed Unicode/);
    expect(findJsonBodyViolation(['ok', ['\ud83d']], limits)?.status).toBe(400);
    expect(findJsonBodyViolation({ name: 'Ada \ud83d\ude00' }, limits)).toBeUndefined();
  });

  it('checks a large flat object in linear time (a body of 90,000 keys is refused at once)', () => {
    const big: Record<string, number> = {};
    for (let i = 0; i < 90_000; i++) big[`k${i}`] = i;
    expect(findJsonBodyViolation(big, { ...limits, maxKeys: 100_000, maxTotalKeys: 100_000 })).toBeUndefined();
    expect(findJsonBodyViolation(big, limits)?.status).toBe(413);
  });
});

describe(JsonBodyRejectedError.name, () => {
  it('carries the status and message the exception filter answers with', () => {
    const error = new JsonBodyRejectedError({ status: 413, message: 'too many' });
    expect(error).toMatchObject({ statusCode: 413, message: 'too many', code: 'E_HTTP_BODY_REJECTED' });
  });
});
