import { Module } from '@nestjs/common';
import { AuthController } from './auth.controller';
import { SessionsController } from './sessions.controller';

/** The HTTP side of `@app/auth` (the library itself is configured in `AppModule`). */
@Module({ controllers: [AuthController, SessionsController] })
export class AuthApiModule {}
