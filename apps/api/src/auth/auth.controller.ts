import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import {
  AuthService,
  CurrentUser,
  Public,
  StrictThrottle,
  type AuthenticatedUser,
  type PublicUser,
  type SessionMeta,
  type TokenPair,
} from '@app/auth';
import { HttpCache } from '@app/http-cache';
import { UsersService } from '../users/users.service';
import { LoginDto, RefreshDto, RegisterDto, TokenPairDto } from './auth.dto';

const metaOf = (request: FastifyRequest): SessionMeta => ({
  userAgent: request.headers['user-agent'],
  ip: request.ip,
});

/** `/api/v1/auth/*`: register, login, refresh, logout, logout-all, me. */
@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly users: UsersService,
  ) {}

  @Public()
  @StrictThrottle()
  @Post('register')
  @ApiTooManyRequestsResponse({ description: 'Too many attempts from this IP or for this email' })
  register(@Body() body: RegisterDto): Promise<PublicUser> {
    return this.auth.register(body);
  }

  @Public()
  @StrictThrottle({ perEmail: false })
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto })
  @ApiTooManyRequestsResponse({
    description: 'Too many attempts from this IP, or too many failed logins for this email (from this IP, or from all)',
  })
  login(@Body() body: LoginDto, @Req() request: FastifyRequest): Promise<TokenPair> {
    return this.auth.login(body.email, body.password, metaOf(request));
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto })
  refresh(@Body() body: RefreshDto, @Req() request: FastifyRequest): Promise<TokenPair> {
    return this.auth.refresh(body.refreshToken, metaOf(request));
  }

  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth()
  logout(@CurrentUser() caller: AuthenticatedUser): Promise<void> {
    return this.auth.logout(caller);
  }

  @Post('logout-all')
  @HttpCode(204)
  @ApiBearerAuth()
  logoutAll(@CurrentUser() caller: AuthenticatedUser): Promise<void> {
    return this.auth.logoutAll(caller);
  }

  @Get('me')
  @HttpCache({ query: [] })
  @ApiBearerAuth()
  me(@CurrentUser() caller: AuthenticatedUser): Promise<PublicUser> {
    return this.users.me(caller);
  }
}
