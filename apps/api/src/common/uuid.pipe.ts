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
