import type { FastifyRequest } from 'fastify';
import { canonicalQuery, requestKey } from './request-key';

function request(url: string, params: Record<string, string> = {}, headers: Record<string, string> = {}) {
  return { url, params, headers, routeOptions: { url: '/items/:id' } } as unknown as FastifyRequest;
}

describe(requestKey.name, () => {
  const shared = { identity: null, vary: [] };
  const byUser = { identity: (r: FastifyRequest) => r.headers['x-user'] as string | undefined, vary: [] };

  it('uses the route pattern and its params, not the raw path', () => {
    expect(requestKey(request('/items/1', { id: '1' }), shared)).toBe('GET /items/:id|id=1?');
  });

  it('sorts query keys, keeps repeated values in order, and re-encodes', () => {
    expect(canonicalQuery('/x?b=2&a=1')).toBe('a=1&b=2');
    expect(canonicalQuery('/x?a=2&a=1')).toBe('a=2&a=1');
    expect(canonicalQuery('/x?q=a%20b')).toBe(canonicalQuery('/x?q=a+b'));
    expect(canonicalQuery('/x?')).toBe('');
  });

  it('cannot be forged across parts: separators inside values are encoded', () => {
    const forged = requestKey(request('/items/1%7Cby%3Abob', { id: '1|by:bob' }), shared);
    const bob = requestKey(request('/items/1', { id: '1' }, { 'x-user': 'bob' }), byUser);
    expect(forged).not.toBe(bob);
    expect(forged).toContain('id=1%7Cby%3Abob');
  });

  it('adds the caller for user routes and the declared vary headers', () => {
    const a = requestKey(request('/items/1', { id: '1' }, { 'x-user': 'a' }), byUser);
    const b = requestKey(request('/items/1', { id: '1' }, { 'x-user': 'b' }), byUser);
    const anonymous = requestKey(request('/items/1', { id: '1' }), byUser);
    expect(new Set([a, b, anonymous]).size).toBe(3);
    const vary = { identity: null, vary: ['accept-language'] };
    expect(requestKey(request('/items/1', { id: '1' }, { 'accept-language': 'en' }), vary)).not.toBe(
      requestKey(request('/items/1', { id: '1' }, { 'accept-language': 'fr' }), vary),
    );
  });
});
