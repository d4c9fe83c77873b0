import { ParseUUIDPipe, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';

/**
 * A UUID path parameter in its canonical lower-case form. Postgres matches a
 * uuid in any case, but cache keys and tags are strings: `/x/ABC…` and
 * `/x/abc…` must name the same entries, or a write through one spelling would
 * leave the other's cached copies stale. 400 for anything but a UUID.
 */
export class CanonicalUuidPipe implements PipeTransform<string, Promise<string>> {
  private readonly uuid = new ParseUUIDPipe();

  async transform(value: string, metadata: ArgumentMetadata): Promise<string> {
    const parsed = await this.uuid.transform(value, metadata);
    return String(parsed).toLowerCase();
  }
}

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A path parameter in the HTTP cache's keys as `CanonicalUuidPipe` will read
 * it (the response cache runs before pipes): a UUID in lower case, so its
 * other spellings share one entry. Every cached route's parameters are UUIDs
 * read through that pipe; anything else is left as sent (and is a 400).
 */
export function canonicalUuidParam(_name: string, value: string): string {
  return UUID_SHAPE.test(value) ? value.toLowerCase() : value;
}
