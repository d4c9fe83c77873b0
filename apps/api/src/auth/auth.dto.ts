import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, Length, MaxLength } from 'class-validator';
import type { SessionView, TokenPair } from '@app/auth';
import { EmailField, NameField } from '../common/fields.decorator';

/** `POST /auth/register`. No `role`: unknown fields are refused, so a client cannot make itself admin. */
export class RegisterDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @EmailField()
  email: string;

  @ApiProperty({ minLength: 8, maxLength: 128 })
  @IsString()
  @Length(8, 128, { message: 'password must be 8 to 128 characters' })
  password: string;

  @ApiProperty({ example: 'Ada Lovelace', minLength: 1, maxLength: 100 })
  @NameField()
  name: string;
}

/** `POST /auth/login`. */
export class LoginDto {
  @ApiProperty({ example: 'ada@example.com' })
  @EmailField()
  email: string;

  @ApiProperty()
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  password: string;
}

/** `POST /auth/refresh`. */
export class RefreshDto {
  @ApiProperty({ description: 'The refresh token of the last pair' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  refreshToken: string;
}

/** A token pair. */
export class TokenPairDto implements TokenPair {
  @ApiProperty({ description: 'A JWT for `Authorization: Bearer …`' }) accessToken: string;
  @ApiProperty({ description: 'Single use: `POST /auth/refresh` answers a new pair' }) refreshToken: string;
  @ApiProperty({ enum: ['Bearer'] }) tokenType: 'Bearer';
  @ApiProperty({ type: 'integer', description: 'Access token lifetime in seconds', example: 900 }) expiresIn: number;
}

/** One of the caller's refresh sessions (a signed-in device). */
export class SessionDto implements SessionView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) lastUsedAt: string;
  @ApiProperty({ format: 'date-time', description: 'When the session ends unless used again' }) expiresAt: string;
  @ApiProperty({ type: 'string', nullable: true }) userAgent: string | null;
  @ApiProperty({ type: 'string', nullable: true }) ip: string | null;
}
