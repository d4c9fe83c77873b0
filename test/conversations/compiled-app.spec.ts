import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess } from '../support/app-process';
import { FakeOpenAi } from '../support/fake-openai';
import { waitFor } from '../support/free-port';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

/**
 * The compiled app (as `npm start` runs it) with an OpenAI-compatible
 * provider: the API key reaches the provider and nothing else (not the logs
 * at debug level, with retries and failures logged), and a client that
 * hangs up mid-stream still gets its answer stored.
 */
describe('Conversations in the compiled app', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bp-conv-'));
  const apiKey = `sk-${randomBytes(12).toString('hex')}`;
  let db: TestDatabase;
  let ai: FakeOpenAi;
  let app: AppProcess;
  let token: string;
  let roomId: string;

  beforeAll(async () => {
    [db, ai] = await Promise.all([createTestDatabase(), FakeOpenAi.start()]);
    app = await AppProcess.start(
      {
        DATABASE_URL: db.url,
        LOG_LEVEL: 'debug',
        HTTP_LOG: 'true',
        JWT_SECRET: randomBytes(32).toString('hex'),
        ...ai.appEnv({ AI_API_KEY: apiKey, AI_MAX_RETRIES: '2' }),
      },
      cwd,
    );
    const credentials = { email: 'conv@example.com', password: 'correct horse battery' };
    expect((await app.send('POST', '/api/v1/auth/register', { body: { ...credentials, name: 'C' } })).status).toBe(201);
    token = (await app.send('POST', '/api/v1/auth/login', { body: credentials })).body.accessToken;
    roomId = (await app.send('POST', '/api/v1/boardrooms', { token, body: { name: 'Room' } })).body.id;
  });
  afterAll(async () => {
    await app?.stop();
    await ai?.close();
    await db?.drop();
  });

  const newConversation = async () =>
    (await app.send('POST', `/api/v1/boardrooms/${roomId}/conversations`, { token, body: {} })).body.id as string;

  it('sends the key to the provider and never logs it, through answers, retries and failures', async () => {
    const id = await newConversation();
    expect(
      (await app.send('POST', `/api/v1/conversations/${id}/messages`, { token, body: { content: 'hi' } })).status,
    ).toBe(201);
    ai.behave({ kind: 'status', status: 503 }, { kind: 'status', status: 429, retryAfter: '0' });
    expect(
      (await app.send('POST', `/api/v1/conversations/${id}/messages`, { token, body: { content: 'retried' } })).status,
    ).toBe(201);
    ai.behave(...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 500 })));
    const failed = await app.send('POST', `/api/v1/conversations/${id}/messages`, {
      token,
      body: { content: 'failing' },
    });
    expect(failed.status).toBe(502);
    expect(ai.requests.every((r) => r.headers.authorization === `Bearer ${apiKey}`)).toBe(true);
    await waitFor(() => /attempt 2 failed/.test(app.output), 5_000, 'the retries to be logged');
    expect(app.output).toContain('The AI provider answered HTTP 500');
    expect(app.output).not.toContain(apiKey);
    expect(JSON.stringify(failed.body)).not.toContain(apiKey);
  });

  it('stores the answer when the client hangs up mid-stream', async () => {
    const id = await newConversation();
    ai.latencyMs = 300;
    try {
      await new Promise<void>((resolve, reject) => {
        const req = request(`${app.baseUrl}/api/v1/conversations/${id}/messages`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'text/event-stream',
            'content-type': 'application/json',
          },
        });
        req.on('response', (res) => {
          expect(res.headers['content-type']).toContain('text/event-stream');
          // Hang up before the provider has answered.
          res.destroy();
          resolve();
        });
        req.on('error', reject);
        req.end(JSON.stringify({ content: 'still answer me' }));
      });
    } finally {
      ai.latencyMs = 0;
    }
    const answered = async () => {
      const page = await app.send('GET', `/api/v1/conversations/${id}/messages`, { token });
      return page.body.length === 2 && page.body[1].status === 'complete';
    };
    await waitFor(answered, 5_000, 'the answer to be stored');
    const page = (await app.send('GET', `/api/v1/conversations/${id}/messages`, { token })).body;
    expect(page[1]).toMatchObject({ seq: 2, role: 'assistant', content: FakeOpenAi.answerTo('still answer me') });
  });
});
