/**
 * `url` with `password` put into its userinfo, percent-encoded, so that a
 * password with `@ : / %` (given as is in `DATABASE_PASSWORD` or
 * `REDIS_PASSWORD`) reaches the driver intact; `url` itself when there is no
 * password. The schema has already refused a URL that carries a password of
 * its own, so nothing is overwritten.
 *
 * The password goes into the URL rather than beside it because `pg` lets
 * the connection string's (empty) password win over a separate `password`
 * option, and because the URL is what the redaction of logs and errors
 * already knows (`redactRedisUrl`, `redactSecrets`): one place holds the secret.
 */
export function withPassword(url: string, password: string | undefined): string {
  if (!password) return url;
  const parsed = new URL(url);
  // The setter leaves `%` alone (it is not in the userinfo encode set): encode everything first.
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}
