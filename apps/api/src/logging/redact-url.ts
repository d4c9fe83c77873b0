/** Query parameters whose values are credentials (compared lower-cased, `-` and `_` ignored). */
const SECRET_PARAMS = new Set([
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'token',
  'authorization',
  'auth',
  'password',
  'passwd',
  'secret',
  'clientsecret',
  'apikey',
  'key',
  'code',
  'signature',
  'sig',
]);

const normalise = (name: string) => {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    // A malformed escape: compare the raw name.
  }
  return decoded.toLowerCase().replace(/[-_]/g, '');
};

/**
 * The URL with the values of credential-like query parameters replaced by
 * `[redacted]` (`/x?access_token=abc&page=2` → `/x?access_token=[redacted]&page=2`),
 * for logs and error messages. The path is kept as it is; a URL without a
 * query string is returned unchanged without any work.
 */
export function redactUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const pairs = url.slice(at + 1).split('&');
  let changed = false;
  for (let i = 0; i < pairs.length; i++) {
    const eq = pairs[i].indexOf('=');
    const name = eq < 0 ? pairs[i] : pairs[i].slice(0, eq);
    if (eq >= 0 && SECRET_PARAMS.has(normalise(name))) {
      pairs[i] = `${name}=[redacted]`;
      changed = true;
    }
  }
  return changed ? `${url.slice(0, at)}?${pairs.join('&')}` : url;
}
