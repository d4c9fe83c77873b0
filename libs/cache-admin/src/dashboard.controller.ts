import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

/**
 * The dashboard's Content-Security-Policy: its own scripts and stylesheets
 * only (no inline script, no CDN: the page works offline), data from this
 * origin, no frames, no forms posting elsewhere. uPlot styles its elements
 * through the CSSOM, which `style-src 'self'` allows.
 */
export const ADMIN_DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * Where the dashboard's own files are: beside this file (the Nest build copies
 * them to `dist/`, and Jest runs the sources), or in the sources from the
 * project root (a plain `tsc` build, as the benchmarks make, copies no assets).
 */
function dashboardDir(): string {
  const candidates = [join(__dirname, 'dashboard'), resolve('libs', 'cache-admin', 'src', 'dashboard')];
  const found = candidates.find((dir) => existsSync(join(dir, 'admin.html')));
  if (!found) throw new Error(`the admin dashboard's files are missing (looked in ${candidates.join(', ')})`);
  return found;
}

/** The dashboard's files, read once at boot: ours (see `dashboardDir`), uPlot (the charts) from its npm package. */
function loadAssets(): Map<string, Asset> {
  const dir = dashboardDir();
  const files: Array<[name: string, path: string]> = [
    ['admin.html', join(dir, 'admin.html')],
    ['admin.js', join(dir, 'admin.js')],
    ['admin.css', join(dir, 'admin.css')],
    ['uPlot.iife.min.js', require.resolve('uplot/dist/uPlot.iife.min.js')],
    ['uPlot.min.css', require.resolve('uplot/dist/uPlot.min.css')],
  ];
  return new Map(
    files.map(([name, path]) => [name, { body: readFileSync(path), type: TYPES[name.slice(name.lastIndexOf('.'))] }]),
  );
}

/**
 * `GET /admin`: the cache admin dashboard, a static page that talks to the
 * admin API with the token it gets from the login form (kept in
 * sessionStorage). The files are public; every figure and action behind them
 * needs an admin token.
 */
@ApiTags('ops')
@Controller('admin')
export class AdminDashboardController {
  private readonly assets = loadAssets();

  @Get()
  @ApiOperation({ summary: 'The cache admin dashboard (a static page; its data needs an admin token)' })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } })
  index(@Res() reply: FastifyReply): FastifyReply {
    return this.send(reply, 'admin.html');
  }

  @Get('assets/:file')
  @ApiOperation({ summary: "One of the dashboard's scripts or style sheets" })
  @ApiProduces('text/javascript', 'text/css')
  @ApiOkResponse({
    description: 'The file',
    content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } },
  })
  @ApiNotFoundResponse({ description: 'No such file' })
  asset(@Param('file') file: string, @Res() reply: FastifyReply): FastifyReply {
    if (file === 'admin.html' || !this.assets.has(file)) throw new NotFoundException('No such file');
    return this.send(reply, file);
  }

  private send(reply: FastifyReply, name: string): FastifyReply {
    const asset = this.assets.get(name)!;
    return reply.header('content-type', asset.type).header('cache-control', 'no-cache').send(asset.body);
  }
}
