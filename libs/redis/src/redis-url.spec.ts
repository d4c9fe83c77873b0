import { hasPassword, redactRedisUrl } from './redis-url';

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
