import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';

/** Body of `POST /api/v1/ping`. */
export class EchoDto {
  @ApiProperty({ maxLength: 10_000, example: 'hello' })
  @IsString()
  @MaxLength(10_000)
  message: string;
}
