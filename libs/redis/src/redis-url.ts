/** The URL with its credentials removed, safe for logs and API responses. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const auth = parsed.password || parsed.username ? '***@' : '';
    return `${parsed.protocol}//${auth}${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return '(unparseable url)';
  }
}

/** True when the URL authenticates (a password, or an ACL user with one). */
export function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

/**
 * `text` with every spelling of the URL's password (as written in the URL,
 * and URL-decoded) replaced by `***`, for messages built from errors that
 * might echo it. Over-redacts rather than risk a leak.
 */
export function redactSecrets(text: string, url: string | undefined): string {
  if (!url) return text;
  let raw: string;
  try {
    raw = new URL(url).password;
  } catch {
    return text;
  }
  if (!raw) return text;
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    /* a malformed escape: the raw spelling is all there is */
  }
  // Longest first, so a spelling that contains the other is replaced whole.
  const spellings = [...new Set([raw, decoded])].sort((a, b) => b.length - a.length);
  return spellings.reduce((result, secret) => result.split(secret).join('***'), text);
}
