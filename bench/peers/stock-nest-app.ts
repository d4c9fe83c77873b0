/**
 * The peer of `npm run bench:http`: a minimal stock NestJS 12 app on the
 * Fastify adapter with one constant route, as `nest new` plus
 * `@nestjs/platform-fastify` gives it (no logger, no guards, no pipes).
 * It is the ceiling any Nest app on this machine can reach. `GET
 * /ping/intercepted` is the same route behind one interceptor that does
 * nothing: the cost of Nest's interceptor machinery alone, which every
 * response cache built as an interceptor (ours, the stock `CacheInterceptor`)
 * pays on each request.
 * Started as a child process: `node stock-nest-app.js <port>`.
 */
import 'reflect-metadata';
import {
  Controller,
  Get,
  Injectable,
  Module,
  UseInterceptors,
  type CallHandler,
  type NestInterceptor,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

/** Does nothing: what any interceptor costs before its own work (Nest's `next.handle()` machinery). */
@Injectable()
class NoopInterceptor implements NestInterceptor {
  intercept(_context: unknown, next: CallHandler) {
    return next.handle();
  }
}

@Controller()
class PingController {
  @Get('ping')
  ping(): { pong: true } {
    return { pong: true };
  }

  @Get('ping/intercepted')
  @UseInterceptors(NoopInterceptor)
  intercepted(): { pong: true } {
    return { pong: true };
  }
}

@Module({ controllers: [PingController], providers: [NoopInterceptor] })
class StockModule {}

async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  const app = await NestFactory.create<NestFastifyApplication>(StockModule, new FastifyAdapter(), { logger: false });
  await app.listen({ port, host: '127.0.0.1' });
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
