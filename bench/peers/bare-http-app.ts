/**
 * The physical reference of `npm run bench:http`: `node:http` answering every
 * request with the same constant JSON, no framework. What this machine can
 * serve at all. Started as a child process: `node bare-http-app.js <port>`.
 */
import { createServer } from 'node:http';

const BODY = JSON.stringify({ pong: true });

const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': BODY.length });
  response.end(BODY);
});
server.listen(Number(process.argv[2]), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
