import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { LightMyRequestResponse } from 'fastify';
import { startE2eApp, type E2eApp } from '../../../test/support/e2e-app';

/** Asserts the public error contract: exactly `{ statusCode, error, message }`, nothing else. */
function expectErrorBody(res: LightMyRequestResponse, statusCode: number, error: string): void {
  expect(res.statusCode).toBe(statusCode);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json();
  expect(Object.keys(body).sort()).toEqual(['error', 'message', 'statusCode']);
  expect(body).toMatchObject({ statusCode, error });
  expect(body.message).toEqual(expect.anything());
  expect(typeof body.message === 'string' || Array.isArray(body.message)).toBe(true);
  // Neither Fastify's internal codes nor stack frames reach the client.
  expect(res.body).not.toMatch(/FST_|\bat .*\.js:\d+/);
}

describe('HTTP error bodies (e2e)', () => {
  let started: E2eApp | undefined;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    started = await startE2eApp();
    app = started.app;
  });

  afterAll(async () => {
    await started?.close();
  });

  it('answers a malformed URL (bad percent-encoding) with 400 in the contract shape', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/%E0%A4%A' });
    expectErrorBody(res, 400, 'Bad Request');
    expect(res.json().message).toBe('Malformed URL');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers a malformed URL on a parameterised route with 400 in the contract shape', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/users/%E0%A4%A' });
    expectErrorBody(res, 400, 'Bad Request');
  });

  it('answers a route parameter over the length limit with 414 in the contract shape', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/users/${'a'.repeat(500)}` });
    expectErrorBody(res, 414, 'URI Too Long');
  });

  it.each([
    ['application/xml', '<message>hi</message>'],
    ['application/octet-stream', 'hi'],
    ['multipart/form-data; boundary=x', '--x--'],
    ['not a media type', 'hi'],
  ])('answers an unsupported content type (%s) with 415 in the contract shape', async (type, payload) => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/ping', headers: { 'content-type': type }, payload });
    expectErrorBody(res, 415, 'Unsupported Media Type');
  });

  it('answers a JSON content type with a broken parameter with 4xx in the contract shape', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/ping',
      headers: { 'content-type': 'application/json; charset' },
      payload: '{}',
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expectErrorBody(res, res.statusCode, res.json().error);
  });

  it('answers a JSON body with a prototype-poisoning key with 400 in the contract shape', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/ping',
      headers: { 'content-type': 'application/json' },
      payload: '{"message":"hi","__proto__":{"admin":true}}',
    });
    expectErrorBody(res, 400, 'Bad Request');
  });

  it('answers a content-length that does not match the body with 400 in the contract shape', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/ping',
      headers: { 'content-type': 'application/json', 'content-length': '2' },
      payload: '{"message":"hi"}',
    });
    expectErrorBody(res, 400, 'Bad Request');
  });

  it('answers an HTTP method no route knows (PROPFIND) with 4xx in the contract shape', async () => {
    const res = await app.inject({ method: 'PROPFIND' as 'GET', url: '/api/v1/ping' });
    expectErrorBody(res, res.statusCode, res.json().error);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
  });
});
