import { BadRequestException, ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';

/** Most validation messages a 400 lists; the rest are counted in one last line. */
export const MAX_VALIDATION_MESSAGES = 10;

/**
 * `messages` as they are when there are at most `max`, otherwise the first
 * `max` and a last line counting the others ("and 12 more errors").
 */
export function capMessages(messages: string[], max: number): string[] {
  if (messages.length <= max) return messages;
  const more = messages.length - max;
  return [...messages.slice(0, max), `and ${more} more error${more === 1 ? '' : 's'}`];
}

/** How deep `inheritedNames` looks; the JSON body parser refuses deeper bodies first (`BODY_MAX_DEPTH`). */
const MAX_DEPTH = 64;

const notAllowed = (name: string) => `property ${name} should not exist`;

/**
 * Whether ValidationPipe's input never reaches the whitelist with `key`:
 * class-transformer skips a name every object inherits, and the pipe's
 * `stripProtoKeys` deletes `prototype` (with `__proto__` and `constructor`,
 * both inherited names) at every depth before it transforms.
 */
const vanishes = (key: string) => key in Object.prototype || key === 'prototype';

/**
 * The own keys of `value` (and of the objects in it) that would vanish
 * (`constructor`, `toString`, `valueOf`, `hasOwnProperty`,
 * `__defineGetter__`…, `prototype`). The whitelist never sees them: they
 * would pass as if absent (a `prototype` key of a free-form object, such as
 * a conversation's context, was dropped from what was stored), and a query
 * would still carry them into the response cache's key (one entry per value).
 */
function inheritedNames(value: unknown, depth = 0, found: string[] = []): string[] {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return found;
  for (const key of Object.keys(value)) {
    if (vanishes(key)) found.push(key);
    inheritedNames((value as Record<string, unknown>)[key], depth + 1, found);
  }
  return found;
}

/**
 * Nest's `ValidationPipe` with three bounds on what bad input costs:
 *
 * - a 400 lists at most `MAX_VALIDATION_MESSAGES` messages (a body of
 *   thousands of unknown properties would otherwise be answered with a
 *   message for each, hundreds of kilobytes);
 * - a `RangeError` raised while transforming or validating the input (the
 *   call stack exhausted by a nested value class-transformer recurses into)
 *   is the client's input, so a 400, not a 500. The JSON body parser refuses
 *   such bodies first (`BODY_MAX_DEPTH`); this covers any other way in;
 * - a key named like an inherited property, or `prototype` (`inheritedNames`),
 *   is refused as an unknown property: class-transformer and the pipe's own
 *   prototype-key stripping would otherwise drop it silently.
 */
export class BoundedValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' || metadata.type === 'query') {
      const inherited = inheritedNames(value);
      if (inherited.length > 0) {
        throw new BadRequestException(capMessages(inherited.map(notAllowed), MAX_VALIDATION_MESSAGES));
      }
    }
    try {
      return (await super.transform(value, metadata)) as unknown;
    } catch (error) {
      // By name: an error thrown by V8 in another realm (Jest's VM) fails `instanceof RangeError`.
      if (error instanceof Error && error.name === 'RangeError') {
        throw new BadRequestException('The request is too deeply nested or too large to validate', { cause: error });
      }
      throw error;
    }
  }

  protected override flattenValidationErrors(validationErrors: ValidationError[]): string[] {
    return capMessages(super.flattenValidationErrors(validationErrors), MAX_VALIDATION_MESSAGES);
  }
}
