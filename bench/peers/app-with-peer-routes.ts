/**
 * Our app as `main.ts` serves it, plus three routes for the HTTP benchmark's
 * peer rows, on the same process, pipeline and data:
 *
 * - `GET /api/v1/bench/users/:id/stock`: the stock `@nestjs/cache-manager`
 *   `CacheInterceptor` (key = URL) over the app's `CACHE_MANAGER`
 *   (cache-manager 7 over `@keyv/redis`), around the same service call as
 *   `GET /api/v1/users/:id`.
 * - `GET /api/v1/bench/users/:id/db`: the same user read from Postgres on
 *   every request (no cache at all): the uncached reference.
 * - `GET /api/v1/bench/users/:id/query`: the same service call as
 *   `GET /api/v1/users/:id` without the response cache: the query cache's
 *   L1 hit behind the pipeline (what that route was before it got
 *   `@HttpCache`, and what the request-pipeline targets are about).
 *
 * Usage: node app-with-peer-routes.js (configured by the environment, as the app).
 */
import 'reflect-metadata';
import { CacheInterceptor } from '@nestjs/cache-manager';
import {
  Controller,
  Get,
  Inject,
  Module,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  UseInterceptors,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import type * as Auth from '../../libs/auth/src';
import type * as Bootstrap from '../../apps/api/src/bootstrap';
import type * as Config from '../../apps/api/src/config/app-config.constants';
import type * as Users from '../../apps/api/src/users/users.module';
import type * as UsersServiceModule from '../../apps/api/src/users/users.service';

// The app as `npm run build` compiled it (dist/), not a copy compiled with the
// benchmark: the rows measure the build that `npm start` runs.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the build is loaded from dist/ at run time
const built = <T>(path: string): T => require(join(process.cwd(), 'dist', path)) as T;
const { createApp } = built<typeof Bootstrap>('apps/api/src/bootstrap');
const { APP_CONFIG } = built<typeof Config>('apps/api/src/config/app-config.constants');
const { UsersModule } = built<typeof Users>('apps/api/src/users/users.module');
const { UsersService } = built<typeof UsersServiceModule>('apps/api/src/users/users.service');
const { toPublicUser, UserEntity } = built<typeof Auth>('libs/auth/src');
type AppConfig = import('../../apps/api/src/config/app-config').AppConfig;

@Controller('bench/users')
class PeerRoutesController {
  constructor(
    @Inject(UsersService) private readonly users: InstanceType<typeof UsersService>,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  @Get(':id/stock')
  @UseInterceptors(CacheInterceptor)
  stock(@Param('id', ParseUUIDPipe) id: string) {
    return this.users.get(id);
  }

  @Get(':id/query')
  query(@Param('id', ParseUUIDPipe) id: string) {
    return this.users.get(id);
  }

  @Get(':id/db')
  async uncached(@Param('id', ParseUUIDPipe) id: string) {
    const user = await this.db.getRepository(UserEntity).findOneBy({ id });
    if (!user) throw new NotFoundException('User not found');
    return toPublicUser(user);
  }
}

@Module({ imports: [UsersModule], controllers: [PeerRoutesController] })
class PeerRoutesModule {}

async function main(): Promise<void> {
  const app = await createApp({}, [PeerRoutesModule]);
  const config = app.get<AppConfig>(APP_CONFIG);
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
  await app.listen({ port: config.http.port, host: config.http.host });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
