import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';

/** Body of `POST /api/v1/ping`. */
export class EchoDto {
  @ApiProperty({ maxLength: 10_000, example: 'hello' })
  @IsString()
  @MaxLength(10_000)
  message: string;
}

/** The answer of the ping routes. */
export class PongDto {
  @ApiProperty({ enum: [true] }) pong: true;
}

/** The answer of `POST /api/v1/ping`. */
export class EchoReplyDto extends PongDto {
  @ApiProperty({ example: 'hello' }) message: string;
}
