import type { JsonBodyLimits } from '../config/app-config';

/** Why a parsed body was refused, with the status it is answered with. */
export interface JsonBodyViolation {
  /** 413 for a body whose structure is too large, 400 for one that is malformed. */
  readonly status: 400 | 413;
  readonly message: string;
}

/**
 * A JSON body refused by `findJsonBodyViolation`. It carries a 4xx
 * `statusCode`, which the exception filter answers in the contract shape with
 * this message.
 */
export class JsonBodyRejectedError extends Error {
  readonly code = 'E_HTTP_BODY_REJECTED';
  readonly statusCode: number;

  constructor(violation: JsonBodyViolation) {
    super(violation.message);
    this.name = 'JsonBodyRejectedError';
    this.statusCode = violation.status;
  }
}

// `String.prototype.isWellFormed` exists on Node 20; the project's `lib` (ES2023) does not declare it.
const isWellFormed = (value: string): boolean => (value as string & { isWellFormed(): boolean }).isWellFormed();

const ILL_FORMED: JsonBodyViolation = {
  status: 400,
  message: 'The request body contains a string that is not well-formed Unicode (a lone surrogate)',
};

/**
 * Checks a parsed JSON value against `limits` in one pass, linear in the
 * number of values, without recursion (so no nesting can overflow the stack):
 * nesting depth (`{}` and `[]` are depth 1), properties per object and in
 * all, elements per array, and that every string, keys included, is
 * well-formed UTF-16. Returns the first violation found, or `undefined`.
 *
 * It runs before validation because validation is where the cost is: the
 * whitelist check builds an error per unknown property (tens of microseconds
 * each, and more than linearly so in large objects), and DTO transformation
 * recurses once per nesting level. A lone surrogate cannot be encoded in
 * UTF-8, so no stored or forwarded text can hold one; refusing it here covers
 * every field (validators such as `isEmail` throw `URIError` on it).
 */
export function findJsonBodyViolation(root: unknown, limits: JsonBodyLimits): JsonBodyViolation | undefined {
  const values: unknown[] = [root];
  const depths: number[] = [0];
  let totalKeys = 0;
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop()! + 1;
    if (typeof value === 'string') {
      if (!isWellFormed(value)) return ILL_FORMED;
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth > limits.maxDepth) {
      return { status: 400, message: `The request body is nested deeper than ${limits.maxDepth} levels` };
    }
    if (Array.isArray(value)) {
      if (value.length > limits.maxArrayLength) {
        return {
          status: 413,
          message: `An array in the request body has more than ${limits.maxArrayLength} elements`,
        };
      }
      for (const element of value as unknown[]) {
        values.push(element);
        depths.push(depth);
      }
      continue;
    }
    const keys = Object.keys(value);
    if (keys.length > limits.maxKeys) {
      return { status: 413, message: `An object in the request body has more than ${limits.maxKeys} properties` };
    }
    totalKeys += keys.length;
    if (totalKeys > limits.maxTotalKeys) {
      return { status: 413, message: `The request body has more than ${limits.maxTotalKeys} properties in all` };
    }
    for (const key of keys) {
      if (!isWellFormed(key)) return ILL_FORMED;
      values.push((value as Record<string, unknown>)[key]);
      depths.push(depth);
    }
  }
  return undefined;
}
