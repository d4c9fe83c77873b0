import { isClientAbort } from './client-abort';

/** The error Fastify's body reader passes on when the request stream is reset. */
const readerError = () => Object.assign(new Error('aborted'), { code: 'ECONNRESET', statusCode: 400 });

describe(isClientAbort.name, () => {
  it('is true for a reset request stream of a request that was aborted', () => {
    expect(isClientAbort(readerError(), { raw: { readableAborted: true } })).toBe(true);
    expect(isClientAbort(readerError(), { raw: { aborted: true } })).toBe(true);
  });

  it("is false for the pg driver's ECONNRESET (no 4xx status), which stays a database outage", () => {
    const pgError = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(isClientAbort(pgError, { raw: { readableAborted: true } })).toBe(false);
  });

  it('is false while the request is intact, and for other errors', () => {
    expect(isClientAbort(readerError(), { raw: { readableAborted: false, aborted: false } })).toBe(false);
    expect(isClientAbort(readerError(), undefined)).toBe(false);
    expect(isClientAbort(new Error('boom'), { raw: { readableAborted: true } })).toBe(false);
    expect(isClientAbort('ECONNRESET', { raw: { readableAborted: true } })).toBe(false);
  });
});
