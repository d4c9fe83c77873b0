import Fastify, { type FastifyInstance } from 'fastify';
import { registerJsonBodyParser } from './json-body-parser';

const limits = { maxDepth: 3, maxKeys: 2, maxTotalKeys: 4, maxArrayLength: 2 };

describe(registerJsonBodyParser.name, () => {
  let fastify: FastifyInstance;

  beforeAll(async () => {
    fastify = Fastify();
    registerJsonBodyParser(fastify, limits);
    fastify.post('/', (request) => ({ body: request.body }));
    await fastify.ready();
  });

  afterAll(() => fastify.close());

  const post = (payload: string, contentType = 'application/json') =>
    fastify.inject({ method: 'POST', url: '/', headers: { 'content-type': contentType }, payload });

  it('parses a JSON body within the limits, with a charset parameter too', async () => {
    const res = await post('{"a":{"b":[1,2]}}', 'application/json; charset=utf-8');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ body: { a: { b: [1, 2] } } });
  });

  it.each([
    ['[[[[1]]]]', 400, /nested deeper than 3/],
    ['{"a":1,"b":2,"c":3}', 413, /more than 2 properties/],
    ['[{"a":1,"b":2},{"c":1,"d":2},{"e":1}]', 413, /more than 2 elements/],
    ['{"email":"a\\ud800@example.com"}', 400, /not well-formed/],
  ])('refuses %s with %i before the handler runs', async (payload, status, message) => {
    const res = await post(payload);
    expect(res.statusCode).toBe(status);
    expect(res.json().message).toMatch(message);
  });

  it('refuses bytes that are not UTF-8 with 400 (they would become U+FFFD), and takes multi-byte text', async () => {
    for (const bytes of [[0xff, 0xfe], [0xc3], [0xed, 0xa0, 0x80]]) {
      const payload = Buffer.concat([Buffer.from('{"a":"'), Buffer.from(bytes), Buffer.from('"}')]);
      const res = await fastify.inject({
        method: 'POST',
        url: '/',
        headers: { 'content-type': 'application/json' },
        payload,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toBe('The body is not valid UTF-8');
    }
    expect((await post('{"a":"é€😀"}')).json()).toEqual({ body: { a: 'é€😀' } });
  });

  it('keeps secure-json-parse: prototype-poisoning keys are a 400', async () => {
    for (const payload of ['{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"admin":true}}}']) {
      expect((await post(payload)).statusCode).toBe(400);
    }
  });

  it('refuses every other content type with 415, text/plain and forms included', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await post('a=1', type);
      expect({ type, status: res.statusCode }).toEqual({ type, status: 415 });
    }
    const untyped = await fastify.inject({ method: 'POST', url: '/', payload: Buffer.from('{"a":1}') });
    expect(untyped.statusCode).toBe(415);
  });
});
