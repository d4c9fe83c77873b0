import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
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
import { UserDto } from '../users/users.dto';
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
  @ApiOperation({ summary: 'Create an account (role user)' })
  @ApiCreatedResponse({ type: UserDto })
  @ApiConflictResponse({ description: 'The email is taken' })
  @ApiTooManyRequestsResponse({ description: 'Too many attempts from this IP or for this email' })
  @ApiServiceUnavailableResponse({ description: 'Postgres does not answer' })
  register(@Body() body: RegisterDto): Promise<PublicUser> {
    return this.auth.register(body);
  }

  @Public()
  @StrictThrottle({ perEmail: false })
  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange email and password for a token pair (10 attempts a minute per IP)' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ description: 'Wrong email or password (the same answer for both)' })
  @ApiServiceUnavailableResponse({ description: 'Postgres does not answer' })
  @ApiTooManyRequestsResponse({
    description: 'Too many attempts from this IP, or too many failed logins for this email (from this IP, or from all)',
  })
  login(@Body() body: LoginDto, @Req() request: FastifyRequest): Promise<TokenPair> {
    return this.auth.login(body.email, body.password, metaOf(request));
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange a refresh token for a new pair (the old refresh token is spent)' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ description: 'Unknown, spent, expired or revoked refresh token (reuse ends the session)' })
  @ApiServiceUnavailableResponse({ description: 'Postgres does not answer' })
  refresh(@Body() body: RefreshDto, @Req() request: FastifyRequest): Promise<TokenPair> {
    return this.auth.refresh(body.refreshToken, metaOf(request));
  }

  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({ summary: "End this token's session: its access and refresh tokens stop working everywhere" })
  @ApiNoContentResponse({ description: 'Logged out' })
  logout(@CurrentUser() caller: AuthenticatedUser): Promise<void> {
    return this.auth.logout(caller);
  }

  @Post('logout-all')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({ summary: "End every one of the caller's sessions" })
  @ApiNoContentResponse({ description: 'Every session ended' })
  logoutAll(@CurrentUser() caller: AuthenticatedUser): Promise<void> {
    return this.auth.logoutAll(caller);
  }

  @Get('me')
  @HttpCache({ query: [] })
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The caller (HTTP-cached per user)' })
  @ApiOkResponse({ type: UserDto })
  me(@CurrentUser() caller: AuthenticatedUser): Promise<PublicUser> {
    return this.users.me(caller);
  }
}
