/**
 * The peer of `npm run bench:http`: a minimal stock NestJS 12 app on the
 * Fastify adapter with one constant route, as `nest new` plus
 * `@nestjs/platform-fastify` gives it (no logger, no guards, no pipes).
 * It is the ceiling any Nest app on this machine can reach.
 * Started as a child process: `node stock-nest-app.js <port>`.
 */
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

@Controller()
class PingController {
  @Get('ping')
  ping(): { pong: true } {
    return { pong: true };
  }
}

@Module({ controllers: [PingController] })
class StockModule {}

async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  const app = await NestFactory.create<NestFastifyApplication>(StockModule, new FastifyAdapter(), { logger: false });
  await app.listen({ port, host: '127.0.0.1' });
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
