import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

/** The smallest RSA modulus accepted for RS256 (NIST SP 800-57: 2048 bits; 512-bit keys are factored in hours). */
export const MIN_RSA_BITS = 2048;

/** One problem with the JWT key pair, for the configuration error that names the variable. */
export interface JwtKeyProblem {
  variable: 'JWT_PRIVATE_KEY' | 'JWT_PUBLIC_KEY';
  message: string;
}

type KeyKind = 'private' | 'public';

function parse(kind: KeyKind, pem: string): KeyObject | undefined {
  try {
    return kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
  } catch {
    return undefined;
  }
}

/** Why `key` cannot sign or verify `algorithm`, or undefined when it can. */
function unfit(algorithm: 'RS256' | 'ES256', key: KeyObject): string | undefined {
  const details = key.asymmetricKeyDetails;
  if (algorithm === 'RS256') {
    if (key.asymmetricKeyType !== 'rsa') return 'must be an RSA key for JWT_ALGORITHM=RS256';
    if ((details?.modulusLength ?? 0) < MIN_RSA_BITS) return `must be an RSA key of at least ${MIN_RSA_BITS} bits`;
    return undefined;
  }
  if (key.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1')
    return 'must be an EC key on the P-256 curve for JWT_ALGORITHM=ES256';
  return undefined;
}

/**
 * Checks the PEM pair of RS256 or ES256 at boot, never echoing a key: each
 * must parse as its kind, fit the algorithm (and RSA be 2048 bits or more),
 * and the public key must be the private key's. Before, a malformed key
 * stopped the boot with a stack trace, a pair that did not match booted and
 * refused every token it signed, and a 512-bit RSA key was taken.
 */
export function jwtKeyProblems(algorithm: 'RS256' | 'ES256', privatePem: string, publicPem: string): JwtKeyProblem[] {
  const problems: JwtKeyProblem[] = [];
  const privateKey = parse('private', privatePem);
  const publicKey = parse('public', publicPem);
  if (!privateKey) problems.push({ variable: 'JWT_PRIVATE_KEY', message: 'is not a private key PEM Node can read' });
  // A private key parses as a public key too (its public half): a public key file is what this variable takes.
  else if (privateKey.type !== 'private')
    problems.push({ variable: 'JWT_PRIVATE_KEY', message: 'must be a private key' });
  if (!publicKey || /PRIVATE KEY-----/.test(publicPem))
    problems.push({ variable: 'JWT_PUBLIC_KEY', message: 'is not a public key PEM Node can read' });
  if (problems.length > 0 || !privateKey || !publicKey) return problems;
  const privateUnfit = unfit(algorithm, privateKey);
  const publicUnfit = unfit(algorithm, publicKey);
  if (privateUnfit) problems.push({ variable: 'JWT_PRIVATE_KEY', message: privateUnfit });
  if (publicUnfit) problems.push({ variable: 'JWT_PUBLIC_KEY', message: publicUnfit });
  if (problems.length > 0) return problems;
  const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });
  if (!spki(createPublicKey(privateKey)).equals(spki(publicKey)))
    problems.push({ variable: 'JWT_PUBLIC_KEY', message: 'is not the public key of JWT_PRIVATE_KEY' });
  return problems;
}
