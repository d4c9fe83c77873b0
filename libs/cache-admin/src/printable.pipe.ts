import { BadRequestException, Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';

/**
 * Text without control characters (Unicode `Cc`: U+0000–U+001F, U+007F–U+009F).
 * A NUL cannot be stored in a Postgres text column at all, so an audited
 * target or detail holding one failed its insert or its outcome's update.
 */
export const PRINTABLE = /^\P{Cc}*$/u;

/**
 * A path parameter without control characters, or a 400: run before the
 * handler, so nothing is audited or looked up for it.
 */
@Injectable()
export class PrintableParamPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (!PRINTABLE.test(value)) throw new BadRequestException(`${metadata.data} must not contain control characters`);
    return value;
  }
}
