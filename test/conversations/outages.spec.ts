import { createClient } from 'redis';
import { apiCall, startAuthInstance, startAuthPair, type AuthInstance, type AuthPair } from '../support/auth-app';
import { FakeOpenAi } from '../support/fake-openai';
import { waitFor } from '../support/free-port';

/**
 * Conversations while Redis fails: Postgres is the truth, so everything
 * works without Redis, a flushed Redis reloads the state intact, and a
 * Redis crash during a stream leaves no half-written exchange.
 */
describe('Conversations when Redis fails', () => {
  let pair: AuthPair;
  let a: AuthInstance;
  let b: AuthInstance;
  let ai: FakeOpenAi;
  let owner: { token: string };
  let roomId: string;

  beforeAll(async () => {
    ai = await FakeOpenAi.start();
    pair = await startAuthPair({
      THROTTLE_AUTH_LIMIT: '1000',
      THROTTLE_LIMIT: '0',
      ...ai.appEnv(),
      REDIS_COMMAND_TIMEOUT_MS: '200',
      REDIS_RECONNECT_MAX_DELAY_MS: '200',
    });
    ({ a, b } = pair);
    const account = await a.client.register('Owner');
    owner = { token: (await a.client.login(account.email, account.password)).accessToken };
    roomId = (await call(a, 'POST', '/boardrooms', owner.token, { name: 'Room' })).json().id;
  });
  afterAll(async () => {
    await pair?.close();
    await ai?.close();
  });

  const call = apiCall;
  const newConversation = async () =>
    (await call(a, 'POST', `/boardrooms/${roomId}/conversations`, owner.token, {})).json().id as string;
  const messages = async (instance: AuthInstance, id: string) =>
    (await call(instance, 'GET', `/conversations/${id}/messages?limit=200`, owner.token)).json<
      Array<{ seq: number; status: string; content: string }>
    >();
  const redisAnswers = (instance: AuthInstance) => async () =>
    (await instance.app.inject({ method: 'GET', url: '/health/ready' })).statusCode === 200;

  it('works from Postgres with Redis down, and reads the same state when Redis is back', async () => {
    const id = await newConversation();
    await call(a, 'POST', `/conversations/${id}/messages`, owner.token, { content: 'before the outage' });
    await pair.redis.kill();
    try {
      const posted = await call(b, 'POST', `/conversations/${id}/messages`, owner.token, {
        content: 'during the outage',
      });
      expect(posted.statusCode).toBe(201);
      const state = await call(a, 'GET', `/conversations/${id}`, owner.token);
      expect(state.statusCode).toBe(200);
      expect(state.json().messages.map((m: { seq: number }) => m.seq)).toEqual([1, 2, 3, 4]);
      expect((await messages(b, id)).map((m) => m.content)).toContain('during the outage');
    } finally {
      await pair.redis.restart();
    }
    await waitFor(redisAnswers(a), 10_000, 'A to see Redis again');
    await waitFor(redisAnswers(b), 10_000, 'B to see Redis again');
    await call(a, 'POST', `/conversations/${id}/messages`, owner.token, { content: 'after the outage' });
    for (const instance of [a, b]) {
      const state = (await call(instance, 'GET', `/conversations/${id}`, owner.token)).json();
      expect(state.messages.map((m: { seq: number }) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it('reloads the state intact from Postgres after FLUSHALL', async () => {
    const id = await newConversation();
    for (const content of ['one', 'two', 'three'])
      await call(a, 'POST', `/conversations/${id}/messages`, owner.token, { content });
    await call(a, 'PATCH', `/conversations/${id}`, owner.token, { version: 1, context: { kept: true } });
    const before = (await call(b, 'GET', `/conversations/${id}`, owner.token)).json();
    const client = createClient({ url: pair.redis.url });
    await client.connect();
    await client.flushAll();
    expect(await client.dbSize()).toBe(0);
    await client.quit();
    // A new instance has nothing in L1 either: its read comes from Postgres.
    const c = await startAuthInstance(pair.env);
    try {
      const res = await call(c, 'GET', `/conversations/${id}`, owner.token);
      expect(res.json()).toEqual(before);
      expect(res.headers['x-cache']).toBe('MISS');
    } finally {
      await c.app.close();
    }
    expect(before.context).toEqual({ kept: true });
    expect(before.messages).toHaveLength(6);
  });

  it('warms the user’s recently active conversations after login, in the background', async () => {
    const account = await a.client.register('Warm');
    const login = () => a.client.login(account.email, account.password);
    const warm = { token: (await login()).accessToken };
    const room = (await call(a, 'POST', '/boardrooms', warm.token, { name: 'Warm room' })).json().id;
    const id = (await call(a, 'POST', `/boardrooms/${room}/conversations`, warm.token, {})).json().id;
    await call(a, 'POST', `/conversations/${id}/messages`, warm.token, { content: 'warm me' });
    const client = createClient({ url: pair.redis.url });
    await client.connect();
    try {
      await client.flushAll();
      const hot = async () => (await client.keys(`${pair.env.CACHE_PREFIX}:c:cv:${id}`)).length === 1;
      expect(await hot()).toBe(false);
      await login();
      await waitFor(hot, 5_000, 'the conversation to be warmed into Redis');
    } finally {
      await client.quit();
    }
  });

  it('finishes or fails a stream cleanly when Redis crashes during it: no pending message is left', async () => {
    const id = await newConversation();
    ai.latencyMs = 400;
    let streamed: Promise<{ statusCode: number; body: string }>;
    try {
      streamed = a.app.inject({
        method: 'POST',
        url: `/api/v1/conversations/${id}/messages`,
        headers: { authorization: `Bearer ${owner.token}`, accept: 'text/event-stream' },
        payload: { content: 'stream through a crash' },
      });
      await new Promise((resolve) => setTimeout(resolve, 150));
      await pair.redis.kill();
      const res = await streamed;
      expect(res.statusCode).toBe(200);
      const last = res.body.trim().split('\n\n').at(-1)!;
      expect(last).toMatch(/^event: (done|error)\n/);
    } finally {
      ai.latencyMs = 0;
      if (!pair.redis.running) await pair.redis.restart();
    }
    const stored = await messages(b, id);
    expect(stored.map((m) => m.seq)).toEqual([1, 2]);
    expect(stored.every((m) => m.status !== 'pending')).toBe(true);
    // Either the whole exchange is there, or both halves are marked failed.
    expect(new Set(stored.map((m) => m.status)).size).toBe(1);
  });
});
