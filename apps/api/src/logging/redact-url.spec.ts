import { redactUrl } from './redact-url';

describe(redactUrl.name, () => {
  it.each([
    ['/x?access_token=abc&page=2', '/x?access_token=[redacted]&page=2'],
    ['/x?page=1&Access-Token=abc', '/x?page=1&Access-Token=[redacted]'],
    ['/x?%61ccess_token=abc', '/x?%61ccess_token=[redacted]'],
    ['/x?apiKey=k&password=p&refresh_token=r', '/x?apiKey=[redacted]&password=[redacted]&refresh_token=[redacted]'],
    ['/x?token', '/x?token'],
    ['/x?%E0%A4%A=1', '/x?%E0%A4%A=1'],
    ['/x?jwt=abc&Bearer=def', '/x?jwt=[redacted]&Bearer=[redacted]'],
    ['/api/v1/users/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln', '/api/v1/users/[redacted]'],
    ['/api/v1/auth/me;access_token=eyJhbGciOi.eyJ9.sig?x=1', '/api/v1/auth/me;access_token=[redacted]?x=1'],
    ['/x?next=eyJhbGciOi.e.s&page=2', '/x?next=[redacted]&page=2'],
    // Spellings query parsers read as the same name: an array, an index, a trailing space.
    ['/x?token[]=abc&token[0]=def', '/x?token[]=[redacted]&token[0]=[redacted]'],
    ['/x?token%5B%5D=abc&token+=def&pwd=p', '/x?token%5B%5D=[redacted]&token+=[redacted]&pwd=[redacted]'],
    ['/x?tokens=1&page[token]=2', '/x?tokens=1&page[token]=2'],
  ])('%s → %s', (url, expected) => expect(redactUrl(url)).toBe(expected));

  it('returns a URL without credentials as it is', () => {
    const url = '/api/v1/users?page=2&limit=10';
    expect(redactUrl(url)).toBe(url);
    expect(redactUrl('/api/v1/ping')).toBe('/api/v1/ping');
  });
});
