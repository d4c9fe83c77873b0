import type { FastifyRequest } from 'fastify';
import { canonicalQuery, keyPart, requestKey } from './request-key';

function request(url: string, params: Record<string, string> = {}, headers: Record<string, string> = {}) {
  return { url, params, headers, routeOptions: { url: '/items/:id' } } as unknown as FastifyRequest;
}

describe(requestKey.name, () => {
  const shared = { identity: null, vary: [] };
  const byUser = { identity: (r: FastifyRequest) => r.headers['x-user'] as string | undefined, vary: [] };

  it('uses the route pattern and its params, not the raw path, in characters the cache keeps as they are', () => {
    const key = requestKey(request('/items/6f1c-9a', { id: '6f1c-9a' }), shared);
    expect(key).toBe('GET:_002fitems_002f_003aid:id.6f1c-9a');
    expect(key).toMatch(/^[A-Za-z0-9:_.-]+$/);
  });

  it('escapes every other character injectively', () => {
    expect(keyPart('a_b')).toBe('a_005fb');
    expect(keyPart('a:b.c')).toBe('a_003ab_002ec');
    expect(keyPart('é')).toBe('_00e9');
    expect(keyPart('_005f')).not.toBe(keyPart('_'));
  });

  it('sorts query keys, keeps repeated values in order, and re-encodes', () => {
    expect(canonicalQuery('/x?b=2&a=1')).toBe('a=1&b=2');
    expect(canonicalQuery('/x?a=2&a=1')).toBe('a=2&a=1');
    expect(canonicalQuery('/x?q=a%20b')).toBe(canonicalQuery('/x?q=a+b'));
    expect(canonicalQuery('/x?')).toBe('');
  });

  it('keeps only the declared query parameters', () => {
    expect(canonicalQuery('/x?junk=1&page=2&limit=5', new Set(['page', 'limit']))).toBe('limit=5&page=2');
    expect(canonicalQuery('/x?junk=1', new Set())).toBe('');
  });

  it('cannot be forged across parts: separators inside values are encoded', () => {
    const forged = requestKey(request('/items/1', { id: '1:by.bob' }), shared);
    const bob = requestKey(request('/items/1', { id: '1' }, { 'x-user': 'bob' }), byUser);
    expect(forged).not.toBe(bob);
    const query = requestKey(request('/items/1?x=1', { id: '1' }), shared);
    expect(requestKey(request('/items/1', { id: '1:q.x_003d1' }), shared)).not.toBe(query);
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
