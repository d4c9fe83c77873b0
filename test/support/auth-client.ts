import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';

/** Minimal client for the auth routes of an app under test (Fastify inject, no sockets). */
export class AuthClient {
  constructor(readonly app: NestFastifyApplication) {}

  request(method: 'GET' | 'POST' | 'DELETE' | 'PATCH', url: string, options: { token?: string; body?: unknown } = {}) {
    return this.app.inject({
      method,
      url,
      headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
      ...(options.body !== undefined && { payload: options.body as Record<string, unknown> }),
    });
  }

  /** Registers a fresh account and returns its credentials. */
  async register(name = 'Test User'): Promise<{ email: string; password: string; id: string }> {
    const email = `u${randomBytes(5).toString('hex')}@example.com`;
    const password = 'correct horse battery';
    const res = await this.request('POST', '/api/v1/auth/register', { body: { email, password, name } });
    if (res.statusCode !== 201) throw new Error(`register: ${res.statusCode} ${res.body}`);
    return { email, password, id: res.json().id };
  }

  async login(email: string, password: string): Promise<{ accessToken: string; refreshToken: string }> {
    const res = await this.request('POST', '/api/v1/auth/login', { body: { email, password } });
    if (res.statusCode !== 200) throw new Error(`login: ${res.statusCode} ${res.body}`);
    return res.json();
  }

  /** Status of `GET /auth/me` with this token. */
  async me(token: string): Promise<number> {
    return (await this.request('GET', '/api/v1/auth/me', { token })).statusCode;
  }
}
