/**
 * Query parameters whose values are credentials (compared decoded,
 * lower-cased, without `-`, `_`, spaces (`+`) and a trailing `[…]`: what
 * query parsers make of `token[]=`, `token[0]=` and `token+=`).
 */
const SECRET_PARAMS = new Set([
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'token',
  'authorization',
  'auth',
  'password',
  'passwd',
  'pwd',
  'secret',
  'clientsecret',
  'apikey',
  'key',
  'code',
  'signature',
  'sig',
  'jwt',
  'bearer',
]);

/**
 * A JSON Web Token anywhere in the URL (a path segment, a `;param`): its
 * header is base64url JSON, so it starts with `eyJ` (`{"`).
 */
const JWT = /eyJ[\w-]{4,}\.[\w-]*\.[\w-]*/g;

const normalise = (name: string) => {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    // A malformed escape: compare the raw name.
  }
  return decoded
    .replace(/\+/g, ' ')
    .replace(/\[[^\]]*\]$/, '')
    .toLowerCase()
    .replace(/[-_\s]/g, '');
};

/**
 * The URL with the values of credential-like query parameters replaced by
 * `[redacted]` (`/x?access_token=abc&page=2` → `/x?access_token=[redacted]&page=2`),
 * and any JSON Web Token in it (`/users/eyJ…` → `/users/[redacted]`), for logs
 * and error messages. Otherwise the path is kept as it is; a URL without a
 * query string or a token is returned unchanged after two scans.
 */
export function redactUrl(url: string): string {
  if (url.includes('eyJ')) url = url.replace(JWT, '[redacted]');
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
