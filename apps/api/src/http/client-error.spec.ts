import type { Socket } from 'node:net';
import { clientErrorHandler } from './client-error';

function fakeSocket(state: { destroyed?: boolean; writable?: boolean } = {}) {
  const written: string[] = [];
  const socket = {
    destroyed: state.destroyed ?? false,
    writable: state.writable ?? true,
    write: (chunk: string) => written.push(chunk),
    destroy: jest.fn(),
  };
  return { socket: socket as unknown as Socket, written, destroy: socket.destroy };
}

const error = (code: string) => Object.assign(new Error(code), { code });

describe(clientErrorHandler.name, () => {
  const handle = clientErrorHandler({ 'x-content-type-options': 'nosniff' });

  it.each([
    ['ERR_HTTP_REQUEST_TIMEOUT', 408],
    ['HPE_HEADER_OVERFLOW', 431],
    ['HPE_INVALID_METHOD', 400],
  ])('answers %s with %i, the error body and the security headers, then closes', (code, status) => {
    const { socket, written, destroy } = fakeSocket();
    handle(error(code), socket);
    const [response] = written;
    expect(response).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(response).toContain('\r\nx-content-type-options: nosniff\r\n');
    expect(response).toContain('\r\nConnection: close\r\n');
    const [head, body] = response.split('\r\n\r\n');
    expect(JSON.parse(body)).toMatchObject({ statusCode: status });
    expect(head).toContain(`Content-Length: ${Buffer.byteLength(body)}`);
    expect(destroy).toHaveBeenCalled();
  });

  it('writes nothing to a reset or destroyed connection', () => {
    const reset = fakeSocket();
    handle(error('ECONNRESET'), reset.socket);
    const gone = fakeSocket({ destroyed: true });
    handle(error('ERR_HTTP_REQUEST_TIMEOUT'), gone.socket);
    expect([...reset.written, ...gone.written]).toEqual([]);
  });
});
