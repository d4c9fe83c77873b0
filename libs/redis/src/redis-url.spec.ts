import { hasPassword, redactRedisUrl, redactSecrets } from './redis-url';

describe(redactRedisUrl.name, () => {
  it('removes the password and user name', () => {
    expect(redactRedisUrl('redis://default:hunter2@cache:6379/1')).toBe('redis://***@cache:6379/1');
    expect(redactRedisUrl('rediss://:hunter2@cache:6380')).toBe('rediss://***@cache:6380');
  });

  it('leaves a URL without credentials readable', () => {
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

  it('does not echo an unparseable value', () => {
    expect(redactRedisUrl('::not a url hunter2')).toBe('(unparseable url)');
  });
});

describe(hasPassword.name, () => {
  it('is true only when the URL carries a password', () => {
    expect(hasPassword('redis://:pw@h:6379')).toBe(true);
    expect(hasPassword('redis://user:pw@h:6379')).toBe(true);
    expect(hasPassword('redis://h:6379')).toBe(false);
  });
});

describe(redactSecrets.name, () => {
  const url = `redis://:${encodeURIComponent('p@ss:w/rd%')}@cache:6379/3`;

  it('replaces the password as written in the URL and URL-decoded', () => {
    const text = `AUTH p@ss:w/rd% failed; url ${url}`;
    const redacted = redactSecrets(text, url);
    expect(redacted).not.toContain('p@ss:w/rd%');
    expect(redacted).not.toContain(encodeURIComponent('p@ss:w/rd%'));
    expect(redacted).toBe('AUTH *** failed; url redis://:***@cache:6379/3');
  });

  it('leaves text alone when the URL has no password or is missing', () => {
    expect(redactSecrets('WRONGPASS x', 'redis://cache:6379')).toBe('WRONGPASS x');
    expect(redactSecrets('WRONGPASS x', undefined)).toBe('WRONGPASS x');
  });
});
