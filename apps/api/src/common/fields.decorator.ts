import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, IsUUID, Length, Matches, MaxLength, ValidateIf } from 'class-validator';

const trimmed = (value: unknown) => (typeof value === 'string' ? value.trim() : value);

/** Trims a string field before validation (anything else is left for the validators to refuse). */
export const Trim = () => Transform(({ value }: { value: unknown }) => trimmed(value));

/**
 * A query integer in its one canonical spelling (`7`, not `07`, `+7`, `7e0`
 * or `0x7`): the HTTP cache keys on the query text, so every other spelling
 * of the same page would be another entry. Anything else becomes NaN (a 400).
 */
export const CanonicalInteger = () =>
  Transform(({ value }: { value: unknown }) =>
    value === undefined || typeof value === 'number'
      ? value
      : typeof value === 'string' && /^(0|[1-9]\d{0,9})$/.test(value)
        ? Number(value)
        : NaN,
  );

/** The message of an `@IsInt` after `@CanonicalInteger`. */
export const canonicalIntegerMessage = (name: string) =>
  `${name} must be an integer written without sign, leading zeros or exponent`;

/**
 * The field may be left out, but not sent as `null`: `@IsOptional()` skips
 * every validator for `null` too, and a `null` name or email would reach a
 * NOT NULL column (a 500) instead of being a 400.
 */
export const IsOptionalNonNull = () => ValidateIf((_object, value) => value !== undefined);

/**
 * Postgres text cannot hold U+0000 ("invalid byte sequence"), so a NUL in a
 * stored string is refused here as a 400 rather than by the database as a 500.
 */
export const NoNulCharacter = () =>
  // eslint-disable-next-line no-control-regex -- matching the control character is the point
  Matches(/^[^\u0000]*$/, { message: '$property must not contain NUL characters' });

/**
 * An email, stored as the library stores it: trimmed and lower-cased before
 * it is validated, so the 254-character limit applies to the stored form
 * (lower-casing can lengthen a string: `İ` becomes two code units).
 */
export const EmailField = () =>
  applyDecorators(
    Transform(({ value }: { value: unknown }) => {
      const email = trimmed(value);
      return typeof email === 'string' ? email.toLowerCase() : email;
    }),
    IsEmail({}, { message: 'email must be an email address' }),
    MaxLength(254),
  );

/** A user's or a boardroom's name, as its `varchar(100)` column holds it: trimmed, 1 to 100 characters, no NUL. */
export const NameField = () => applyDecorators(Trim(), IsString(), Length(1, 100), NoNulCharacter());

/**
 * A UUID in a body, in the canonical lower case `CanonicalUuidPipe` gives
 * path parameters. Postgres matches a uuid in any case, but the query cache
 * keys and invalidates by the string: a member added as `ABC…` invalidated
 * the `ABC…` entries and left the member's own (`abc…`) cached "not a member"
 * answer in place until its TTL.
 */
export const UuidField = () =>
  applyDecorators(
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.toLowerCase() : value)),
    IsUUID(),
  );
