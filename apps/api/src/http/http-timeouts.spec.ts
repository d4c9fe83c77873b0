import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { applyHttpTimeouts, checkIntervalMs } from './http-timeouts';

describe(applyHttpTimeouts.name, () => {
  let server: Server;

  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('sets the deadlines on the server and checks them often enough', () => {
    server = createServer();
    applyHttpTimeouts(server, { headersMs: 2_000, requestMs: 30_000, keepAliveMs: 5_000 });
    expect(server).toMatchObject({ headersTimeout: 2_000, requestTimeout: 30_000, keepAliveTimeout: 5_000 });
    expect((server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval).toBe(500);
  });

  it('answers a body that never finishes with 408 once the request deadline passes', async () => {
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.end('ok'));
    });
    applyHttpTimeouts(server, { headersMs: 200, requestMs: 300, keepAliveMs: 1_000 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const answer = await new Promise<string>((resolve) => {
      let received = '';
      const socket = connect(port, '127.0.0.1', () =>
        socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a"'),
      );
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      socket.on('close', () => resolve(received));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });
});

describe(checkIntervalMs.name, () => {
  it('is a quarter of the shorter deadline, at most a second', () => {
    expect(checkIntervalMs({ headersMs: 10_000, requestMs: 30_000, keepAliveMs: 72_000 })).toBe(1_000);
    expect(checkIntervalMs({ headersMs: 1_000, requestMs: 2_000, keepAliveMs: 1_000 })).toBe(250);
  });
});
