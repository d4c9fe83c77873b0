import { Module } from '@nestjs/common';
import { AuthController } from './auth.controller';
import { UsersModule } from '../users/users.module';
import { SessionsController } from './sessions.controller';

/** The HTTP side of `@app/auth` (the library itself is configured in `AppModule`). */
@Module({ imports: [UsersModule], controllers: [AuthController, SessionsController] })
export class AuthApiModule {}
