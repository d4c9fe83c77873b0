import { AI_RESOLVED_OPTIONS, AiLedger, type ResolvedAiOptions } from '@app/ai';
import {
  CONVERSATION_STATE_OPTIONS,
  ConversationNotFoundError,
  ConversationStateService,
  MessageEntity,
  type ResolvedConversationStateOptions,
} from '@app/conversation-state';
import { NamespacedCache } from '@app/cache';
import { createClient } from '@redis/client';
import { DataSource } from 'typeorm';
import { providerMaxMs } from '../../apps/api/src/conversations/ai-provider.factory';
import { APP_CONFIG } from '../../apps/api/src/config/app-config.constants';
import type { AppConfig } from '../../apps/api/src/config/app-config';
import { UsersService } from '../../apps/api/src/users/users.service';
import { apiCall, startAuthPair, type AuthInstance, type AuthPair } from '../support/auth-app';
import { FakeOpenAi } from '../support/fake-openai';
import { waitFor } from '../support/free-port';

interface Message {
  id: string;
  seq: number;
  role: string;
  content: string;
  status: string;
  cached: boolean;
  completionTokens: number | null;
}

/**
 * AI conversations through the HTTP API of two instances sharing Postgres
 * and a Redis server of the test's own, answered by a local
 * OpenAI-compatible endpoint that counts its calls.
 */
describe('Conversations across two instances', () => {
  let pair: AuthPair;
  let a: AuthInstance;
  let b: AuthInstance;
  let ai: FakeOpenAi;

  beforeAll(async () => {
    ai = await FakeOpenAi.start();
    pair = await startAuthPair({
      THROTTLE_AUTH_LIMIT: '1000',
      THROTTLE_LIMIT: '0',
      ...ai.appEnv({ AI_API_KEY: 'sk-conversations-test' }),
      AI_PRICES: JSON.stringify({ 'test-model': { prompt: 1, completion: 2 } }),
    });
    ({ a, b } = pair);
  });
  afterAll(async () => {
    await pair?.close();
    await ai?.close();
  });

  const call = apiCall;
  async function user(name: string) {
    const account = await a.client.register(name);
    return { ...account, token: (await a.client.login(account.email, account.password)).accessToken };
  }
  async function room(owner: { token: string }, ...members: Array<{ id: string }>) {
    const created = (await call(a, 'POST', '/boardrooms', owner.token, { name: 'Room' })).json();
    for (const member of members)
      await call(a, 'POST', `/boardrooms/${created.id}/members`, owner.token, { userId: member.id });
    return created.id as string;
  }
  async function conversation(token: string, roomId: string, body: Record<string, unknown> = {}) {
    const res = await call(a, 'POST', `/boardrooms/${roomId}/conversations`, token, body);
    expect(res.statusCode).toBe(201);
    return res.json().id as string;
  }
  const post = (instance: AuthInstance, id: string, token: string, body: Record<string, unknown>) =>
    call(instance, 'POST', `/conversations/${id}/messages`, token, body);
  const allMessages = async (instance: AuthInstance, id: string, token: string): Promise<Message[]> =>
    (await call(instance, 'GET', `/conversations/${id}/messages?limit=200`, token)).json();
  /** A post on A whose provider call is held (the exchange pending) until `release`. */
  async function heldPost(id: string, token: string, content: string) {
    let release!: () => void;
    ai.behave({ kind: 'gate', until: new Promise<void>((resolve) => (release = resolve)) });
    const calls = ai.calls;
    const posting = post(a, id, token, { content });
    await waitFor(() => ai.calls > calls, 10_000, 'the provider call');
    return { posting, release };
  }

  it('shows a message posted on A on B at once, state and pages alike', async () => {
    const owner = await user('Owner');
    const id = await conversation(owner.token, await room(owner), { systemPrompt: 'Be brief' });
    // B reads (and caches) the empty state first.
    expect((await call(b, 'GET', `/conversations/${id}`, owner.token)).json().messages).toEqual([]);
    expect(await allMessages(b, id, owner.token)).toEqual([]);

    const posted = await post(a, id, owner.token, { content: 'What is our plan?' });
    expect(posted.statusCode).toBe(201);
    const body = posted.json();
    expect(body.cached).toBe(false);
    expect(body.userMessage).toMatchObject({ seq: 1, role: 'user', content: 'What is our plan?', status: 'complete' });
    expect(body.assistantMessage).toMatchObject({
      seq: 2,
      role: 'assistant',
      content: FakeOpenAi.answerTo('What is our plan?'),
      status: 'complete',
      completionTokens: 7,
    });
    // The model saw the system prompt and the message.
    expect(ai.requests.at(-1)!.body.messages).toEqual([
      { role: 'system', content: 'Be brief' },
      { role: 'user', content: 'What is our plan?' },
    ]);

    const state = (await call(b, 'GET', `/conversations/${id}`, owner.token)).json();
    expect(state.messages.map((m: Message) => m.seq)).toEqual([1, 2]);
    expect(state.lastSeq).toBe(2);
    expect((await allMessages(b, id, owner.token)).map((m) => m.content)).toEqual([
      'What is our plan?',
      FakeOpenAi.answerTo('What is our plan?'),
    ]);
    // The next question carries the history.
    await post(b, id, owner.token, { content: 'And then?' });
    expect(ai.requests.at(-1)!.body.messages.map((m) => m.content)).toEqual([
      'Be brief',
      'What is our plan?',
      FakeOpenAi.answerTo('What is our plan?'),
      'And then?',
    ]);
  });

  it('lands 20 concurrent posts over both instances in order: 40 messages, seq contiguous, answers after their questions', async () => {
    const owner = await user('Busy');
    const id = await conversation(owner.token, await room(owner));
    ai.latencyMs = 30;
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => post(i % 2 ? a : b, id, owner.token, { content: `question ${i}` })),
      );
      expect(results.map((r) => r.statusCode)).toEqual(Array(20).fill(201));
    } finally {
      ai.latencyMs = 0;
    }
    const messages = await allMessages(a, id, owner.token);
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const questions = messages.filter((m) => m.role === 'user').map((m) => m.content);
    expect(questions.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `question ${i}`).sort());
    for (const [i, message] of messages.entries()) {
      if (message.role !== 'user') continue;
      expect(messages[i + 1]).toMatchObject({
        role: 'assistant',
        status: 'complete',
        content: FakeOpenAi.answerTo(message.content),
      });
    }
    expect((await call(b, 'GET', `/conversations/${id}`, owner.token)).json().lastSeq).toBe(40);
  });

  it('answers a repeated prompt from the completion cache, and identical concurrent prompts on two instances with one call', async () => {
    const owner = await user('Saver');
    const roomId = await room(owner);
    const first = await conversation(owner.token, roomId, { systemPrompt: 'You advise boards' });
    const second = await conversation(owner.token, roomId, { systemPrompt: 'You advise boards' });
    const calls = ai.calls;
    const miss = (await post(a, first, owner.token, { content: 'Budget for Q3?' })).json();
    const hit = (await post(b, second, owner.token, { content: 'Budget for Q3?' })).json();
    expect(ai.calls).toBe(calls + 1);
    expect(hit.cached).toBe(true);
    expect(hit.assistantMessage).toMatchObject({
      content: miss.assistantMessage.content,
      cached: true,
      completionTokens: 7,
    });
    // A different history is a different question.
    await post(b, second, owner.token, { content: 'Budget for Q3?' });
    expect(ai.calls).toBe(calls + 2);
    // noCache asks the provider again; the ledger counted the one hit.
    const third = await conversation(owner.token, roomId, { systemPrompt: 'You advise boards' });
    expect(
      (await post(a, third, owner.token, { content: 'Budget for Q3?', cache: { noCache: true } })).json().cached,
    ).toBe(false);
    expect(ai.calls).toBe(calls + 3);
    const saved = b.app
      .get(AiLedger)
      .lines()
      .find((line) => line.model === 'test-model')!;
    expect(saved.requests.hit).toBeGreaterThanOrEqual(1);

    ai.latencyMs = 300;
    try {
      const rooms = await Promise.all([conversation(owner.token, roomId), conversation(owner.token, roomId)]);
      const before = ai.calls;
      const answers = await Promise.all([
        post(a, rooms[0], owner.token, { content: 'Same question, same time' }),
        post(b, rooms[1], owner.token, { content: 'Same question, same time' }),
      ]);
      expect(ai.calls).toBe(before + 1);
      expect(answers.map((r) => r.json().cached).sort()).toEqual([false, true]);
    } finally {
      ai.latencyMs = 0;
    }
  });

  it('counts in the ledger the tokens the provider reported for the original answer, times the hits', async () => {
    const owner = await user('Ledger');
    const roomId = await room(owner);
    const ledger = a.app.get(AiLedger);
    const before = ledger.lines().find((line) => line.model === 'test-model')?.tokensSaved ?? {
      prompt: 0,
      completion: 0,
    };
    const ids = await Promise.all(Array.from({ length: 4 }, () => conversation(owner.token, roomId)));
    const original = (await post(a, ids[0], owner.token, { content: 'Ledger question' })).json().assistantMessage;
    for (const id of ids.slice(1))
      expect((await post(a, id, owner.token, { content: 'Ledger question' })).json().cached).toBe(true);
    const after = ledger.lines().find((line) => line.model === 'test-model')!;
    // The fake reports 11 prompt tokens per message sent and 7 completion tokens.
    expect(after.tokensSaved.prompt - before.prompt).toBe(3 * 11);
    expect(after.tokensSaved.completion - before.completion).toBe(3 * original.completionTokens);
    const metrics = await a.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/ai_tokens_saved_total\{model="test-model",kind="completion"\} \d+/);
    expect(metrics.body).toMatch(/ai_completion_requests_total\{model="test-model",result="hit"\} \d+/);
    expect(metrics.body).toMatch(/ai_cost_saved_total\{model="test-model"\} [\d.e-]+/);
    expect(metrics.body).toContain('ai_provider_duration_seconds_bucket');
  });

  it('streams the answer as server-sent events, and replays a cached one the same way', async () => {
    const owner = await user('Streamer');
    const roomId = await room(owner);
    const ids = [await conversation(owner.token, roomId), await conversation(owner.token, roomId)];
    const stream = (id: string) =>
      a.app.inject({
        method: 'POST',
        url: `/api/v1/conversations/${id}/messages`,
        headers: { authorization: `Bearer ${owner.token}`, accept: 'text/event-stream' },
        payload: { content: 'Stream this please' },
      });
    const events = (payload: string) =>
      payload
        .trim()
        .split('\n\n')
        .map((block) => {
          const [event, data] = block.split('\n');
          return { event: event.replace('event: ', ''), data: JSON.parse(data.replace('data: ', '')) };
        });
    for (const [i, id] of ids.entries()) {
      const res = await stream(id);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/event-stream');
      const parsed = events(res.body);
      const tokens = parsed.filter((e) => e.event === 'token').map((e) => e.data.text);
      const done = parsed.at(-1)!;
      expect(done.event).toBe('done');
      expect(tokens.length).toBeGreaterThan(2);
      expect(tokens.join('')).toBe(FakeOpenAi.answerTo('Stream this please'));
      expect(done.data.assistantMessage.content).toBe(tokens.join(''));
      expect(done.data.cached).toBe(i === 1);
    }
    // A provider failure mid-exchange ends the stream with an error event.
    ai.behave({ kind: 'status', status: 500 });
    const failed = await stream(ids[0]);
    expect(failed.statusCode).toBe(200);
    expect(failed.headers['x-request-id']).toBeTruthy();
    expect(events(failed.body).at(-1)).toEqual({
      event: 'error',
      data: { statusCode: 502, message: 'The AI provider answered HTTP 500' },
    });
    // Bad input is a plain 400 even when a stream was asked for.
    const empty = await a.app.inject({
      method: 'POST',
      url: `/api/v1/conversations/${ids[0]}/messages`,
      headers: { authorization: `Bearer ${owner.token}`, accept: 'text/event-stream' },
      payload: { content: '' },
    });
    expect(empty.statusCode).toBe(400);
  });

  it('answers a provider failure with 502 and keeps the exchange marked failed, out of the next prompt', async () => {
    const owner = await user('Unlucky');
    const id = await conversation(owner.token, await room(owner));
    ai.behave({ kind: 'status', status: 500 });
    const failed = await post(a, id, owner.token, { content: 'This one fails' });
    expect(failed.statusCode).toBe(502);
    expect(failed.json().message).toBe('The AI provider answered HTTP 500');
    expect(failed.body).not.toContain('sk-conversations-test');
    const messages = await allMessages(b, id, owner.token);
    expect(messages.map((m) => [m.seq, m.role, m.status])).toEqual([
      [1, 'user', 'failed'],
      [2, 'assistant', 'failed'],
    ]);
    expect((await post(b, id, owner.token, { content: 'Try again' })).statusCode).toBe(201);
    expect(ai.requests.at(-1)!.body.messages).toEqual([{ role: 'user', content: 'Try again' }]);
    expect((await allMessages(a, id, owner.token)).map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  });

  it('marks an exchange its process abandoned as failed, and drops the cached copies', async () => {
    const owner = await user('Abandoned');
    const id = await conversation(owner.token, await room(owner));
    // What a process that died while the provider answered leaves behind: a begun exchange, never finished.
    const exchange = await a.app.get(ConversationStateService).beginExchange(id, owner.id, 'never answered');
    expect((await allMessages(b, id, owner.token)).map((m) => m.status)).toEqual(['pending', 'pending']);
    const db = a.app.get(DataSource);
    // Not old enough yet: left alone.
    expect(await b.app.get(ConversationStateService).sweepPending()).toBe(0);
    await db.query(
      `UPDATE "conversation_messages" SET "created_at" = now() - interval '1 day' WHERE "id" IN ($1, $2)`,
      [exchange.userMessage.id, exchange.assistantMessage.id],
    );
    expect(await b.app.get(ConversationStateService).sweepPending()).toBe(2);
    expect((await allMessages(a, id, owner.token)).map((m) => m.status)).toEqual(['failed', 'failed']);
    // The next question does not carry the abandoned one.
    await post(a, id, owner.token, { content: 'a fresh start' });
    expect(ai.requests.at(-1)!.body.messages).toEqual([{ role: 'user', content: 'a fresh start' }]);
  });

  it('never marks a completed exchange failed: failExchange changes only pending messages', async () => {
    const owner = await user('Completed');
    const id = await conversation(owner.token, await room(owner));
    const state = a.app.get(ConversationStateService);
    const exchange = await state.beginExchange(id, owner.id, 'answered once');
    await state.finishExchange(exchange, {
      content: 'the answer',
      promptTokens: 1,
      completionTokens: 2,
      cached: false,
    });
    // A late failure path (e.g. the caller's catch after a finished exchange) must not undo it.
    await state.failExchange(exchange);
    expect((await allMessages(b, id, owner.token)).map((m) => [m.status, m.content])).toEqual([
      ['complete', 'answered once'],
      ['complete', 'the answer'],
    ]);
  });

  it('refuses an answer that comes after the sweeper gave its exchange up: 504, nothing claimed stored, still failed', async () => {
    const owner = await user('Too late');
    const id = await conversation(owner.token, await room(owner));
    // The provider holds the call; the exchange is pending meanwhile.
    const { posting, release } = await heldPost(id, owner.token, 'slow to answer');
    const db = a.app.get(DataSource);
    await db.query(
      `UPDATE "conversation_messages" SET "created_at" = now() - interval '1 day' WHERE "conversation_id" = $1`,
      [id],
    );
    expect(await b.app.get(ConversationStateService).sweepPending()).toBe(2);
    release();
    const res = await posting;
    expect(res.statusCode).toBe(504);
    expect(res.json().message).toMatch(/nothing was stored/);
    expect(res.body).not.toContain('complete');
    expect((await allMessages(b, id, owner.token)).map((m) => [m.status, m.content])).toEqual([
      ['failed', 'slow to answer'],
      ['failed', ''],
    ]);
  });

  it('answers 404 when the conversation is deleted while its answer is on the way, never the exchange as stored', async () => {
    const owner = await user('Deleted meanwhile');
    const id = await conversation(owner.token, await room(owner));
    const { posting, release } = await heldPost(id, owner.token, 'about to vanish');
    expect((await call(b, 'DELETE', `/conversations/${id}`, owner.token)).statusCode).toBe(204);
    release();
    const res = await posting;
    expect([res.statusCode, res.json().message]).toEqual([404, 'Conversation not found']);
  });

  it('sweeps only exchanges older than a waiter may take: a lock wait for another instance plus its own provider call', () => {
    const config = a.app.get<AppConfig>(APP_CONFIG);
    const lockWaitMs = a.app.get<ResolvedAiOptions>(AI_RESOLVED_OPTIONS).lockWaitMs;
    const { pendingTimeoutMs } = a.app.get<ResolvedConversationStateOptions>(CONVERSATION_STATE_OPTIONS);
    expect(pendingTimeoutMs).toBeGreaterThanOrEqual(lockWaitMs + providerMaxMs(config.ai) + 60_000);
  });

  it('answers with the text Postgres stores when the provider sends lone surrogates', async () => {
    const owner = await user('Surrogates');
    const id = await conversation(owner.token, await room(owner));
    ai.behave({
      kind: 'raw',
      contentType: 'application/json',
      body: JSON.stringify({ choices: [{ message: { content: 'broken \ud800 text' } }] }),
    });
    const posted = await post(a, id, owner.token, { content: 'say something odd' });
    expect(posted.json().assistantMessage.content).toBe('broken \ufffd text');
    const [stored] = await a.app
      .get(DataSource)
      .query(`SELECT "content" FROM "conversation_messages" WHERE "conversation_id" = $1 AND "seq" = 2`, [id]);
    expect(stored.content).toBe(posted.json().assistantMessage.content);
  });

  it('caches no page past the last message, whatever afterSeq says, and serves the next message once it comes', async () => {
    const owner = await user('Pager');
    const id = await conversation(owner.token, await room(owner));
    await post(a, id, owner.token, { content: 'first' });
    const page = (afterSeq: number) =>
      call(b, 'GET', `/conversations/${id}/messages?afterSeq=${afterSeq}&limit=10`, owner.token);
    expect((await page(0)).json()).toHaveLength(2);
    const redis = createClient({ url: pair.redis.url });
    await redis.connect();
    try {
      const before = await redis.dbSize();
      for (let afterSeq = 2; afterSeq < 32; afterSeq++) {
        const res = await page(afterSeq);
        expect([afterSeq, res.statusCode, res.json(), res.headers['cache-control']]).toEqual([
          afterSeq,
          200,
          [],
          'no-store',
        ]);
      }
      expect(await redis.dbSize()).toBe(before);
    } finally {
      await redis.quit();
    }
    // The end of the conversation moves: the page after the old end holds the new messages.
    await post(a, id, owner.token, { content: 'second' });
    expect((await page(2)).json().map((m: Message) => m.content)).toEqual(['second', FakeOpenAi.answerTo('second')]);
    expect((await page(3)).json().map((m: Message) => m.seq)).toEqual([4]);
  });

  it('keeps conversations to their boardroom: a non-member gets 404, a member may not delete another’s', async () => {
    const owner = await user('RoomOwner');
    const member = await user('RoomMember');
    const outsider = await user('Outsider');
    const roomId = await room(owner, member);
    const id = await conversation(owner.token, roomId);
    await post(a, id, owner.token, { content: 'Private strategy' });
    for (const [method, url, body] of [
      ['GET', `/conversations/${id}`],
      ['GET', `/conversations/${id}/messages`],
      ['POST', `/conversations/${id}/messages`, { content: 'let me in' }],
      ['PATCH', `/conversations/${id}`, { version: 1, title: 'mine' }],
      ['DELETE', `/conversations/${id}`],
      ['POST', `/boardrooms/${roomId}/conversations`, {}],
    ] as const) {
      const res = await call(b, method, url, outsider.token, body);
      expect([method, url, res.statusCode]).toEqual([method, url, 404]);
      expect(res.body).not.toContain('Private strategy');
    }
    expect((await call(b, 'GET', `/conversations/${id}`, member.token)).statusCode).toBe(200);
    expect((await call(b, 'DELETE', `/conversations/${id}`, member.token)).statusCode).toBe(403);
    // Removed from the room: the cached response and state are not served to them.
    expect((await call(a, 'DELETE', `/boardrooms/${roomId}/members/${member.id}`, owner.token)).statusCode).toBe(204);
    expect((await call(b, 'GET', `/conversations/${id}`, member.token)).statusCode).toBe(404);
    // The owner deletes it: gone everywhere, cached copies included.
    expect((await call(b, 'GET', `/conversations/${id}`, owner.token)).statusCode).toBe(200);
    expect((await call(a, 'DELETE', `/conversations/${id}`, owner.token)).statusCode).toBe(204);
    expect((await call(b, 'GET', `/conversations/${id}`, owner.token)).statusCode).toBe(404);
    expect((await call(b, 'GET', `/conversations/${id}/messages`, owner.token)).statusCode).toBe(404);
  });

  it('treats an id in upper case as the same conversation: a write through one spelling is read through the other', async () => {
    const owner = await user('Casing');
    const id = await conversation(owner.token, await room(owner));
    expect((await call(b, 'GET', `/conversations/${id}`, owner.token)).json().title).toBe('New conversation');
    const upper = id.toUpperCase();
    expect(
      (await call(a, 'PATCH', `/conversations/${upper}`, owner.token, { version: 1, title: 'Renamed' })).statusCode,
    ).toBe(200);
    expect((await call(b, 'GET', `/conversations/${id}`, owner.token)).json().title).toBe('Renamed');
    await post(a, upper, owner.token, { content: 'through the upper-case id' });
    expect((await allMessages(b, id, owner.token)).map((m) => m.seq)).toEqual([1, 2]);
    expect((await call(a, 'DELETE', `/conversations/${upper}`, owner.token)).statusCode).toBe(204);
    expect((await call(b, 'GET', `/conversations/${id}`, owner.token)).statusCode).toBe(404);
  });

  it('never answers a read made after a write with a load that started before it (single flight across a write)', async () => {
    const owner = await user('Reader before and after');
    const member = await user('Second reader');
    const id = await conversation(owner.token, await room(owner, member), { title: 'before' });
    // A's next load of the hot state is held between its two queries: the conversation row is read, the history not yet.
    const messages = a.app.get(DataSource).getRepository(MessageEntity);
    const find = messages.find.bind(messages);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const spy = jest.spyOn(messages, 'find').mockImplementationOnce(async (options) => {
      await held;
      return find(options);
    });
    try {
      await a.app.get(ConversationStateService).invalidate(id); // creating it cached the hot state
      const early = call(a, 'GET', `/conversations/${id}`, owner.token);
      await waitFor(() => spy.mock.calls.length > 0, 10_000, 'the held load');
      // The write is acknowledged on B, whose invalidation A heard before B answered.
      const patched = await call(b, 'PATCH', `/conversations/${id}`, owner.token, { version: 1, title: 'after' });
      expect([patched.statusCode, patched.json().title, patched.json().version]).toEqual([200, 'after', 2]);
      // Read after the acknowledgement on A: the same caller (the HTTP cache's flight) and another member (the state's).
      // A read joins a flight synchronously inside getOrSet: once the cv read of `other` is seen, both have joined.
      const lookups = jest.spyOn(NamespacedCache.prototype, 'getOrSet');
      const same = call(a, 'GET', `/conversations/${id}`, owner.token);
      const other = call(a, 'GET', `/conversations/${id}`, member.token);
      const seen = (pick: (key: string) => boolean) => lookups.mock.calls.filter(([key]) => pick(key)).length;
      await waitFor(() => seen((key) => key.includes(id) && !key.startsWith('h:')) >= 3, 10_000, 'both reads');
      lookups.mockRestore();
      release();
      expect((await early).statusCode).toBe(200);
      for (const res of [await same, await other]) expect([res.json().title, res.json().version]).toEqual(['after', 2]);
    } finally {
      release();
      spy.mockRestore();
    }
    expect((await call(a, 'GET', `/conversations/${id}`, owner.token)).json().title).toBe('after');
  });

  it('keeps a conversation in the boardroom when its creator’s account is deleted', async () => {
    const owner = await user('Room keeper');
    const member = await user('Leaver');
    const roomId = await room(owner, member);
    const id = await conversation(member.token, roomId);
    await post(a, id, member.token, { content: 'before I go' });
    // The account goes (this pair has no admin: the row is deleted directly).
    await a.app.get(DataSource).query(`DELETE FROM "users" WHERE "id" = $1`, [member.id]);
    await call(a, 'PATCH', `/conversations/${id}`, owner.token, { version: 1, title: 'Kept' });
    const state = (await call(b, 'GET', `/conversations/${id}`, owner.token)).json();
    expect(state).toMatchObject({ title: 'Kept', createdBy: null });
    expect(state.messages.map((m: Message) => m.content)).toContain('before I go');
  });

  it('answers 401 to a post whose author is deleted while it waits for the conversation, not a 500', async () => {
    const owner = await user('Host of a leaver');
    const leaver = await user('Leaving mid-post');
    const id = await conversation(owner.token, await room(owner, leaver));
    const db = a.app.get(DataSource);
    // Holds the conversation's row lock: the post passes the guard and access checks, then waits in beginExchange.
    const holder = db.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    try {
      await holder.query(`SELECT 1 FROM "conversations" WHERE "id" = $1 FOR UPDATE`, [id]);
      const posting = post(b, id, leaver.token, { content: 'my last words' });
      const waiting = async () =>
        Number(
          (
            await db.query(
              `SELECT count(*) AS n FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'`,
            )
          )[0].n,
        );
      while ((await waiting()) === 0) await new Promise((resolve) => setImmediate(resolve));
      await a.app.get(UsersService).remove(leaver.id);
      await holder.commitTransaction();
      const res = await posting;
      expect([res.statusCode, res.json().message]).toEqual([401, 'Account no longer exists']);
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }
    expect(await allMessages(a, id, owner.token)).toEqual([]);
  });

  it('drops every cached copy of a deleted boardroom’s conversations, on every instance', async () => {
    const owner = await user('Dissolver');
    const roomId = await room(owner);
    const id = await conversation(owner.token, roomId);
    await post(a, id, owner.token, { content: 'soon gone' });
    const onB = b.app.get(ConversationStateService);
    // B caches the state, the history and the header.
    expect((await onB.get(id)).messages).toHaveLength(2);
    expect(await onB.messages(id, 0, 10)).toHaveLength(2);
    expect((await onB.header(id)).boardroomId).toBe(roomId);
    // The database's cascade deletes the conversation: no write of the conversation service saw it.
    expect((await call(a, 'DELETE', `/boardrooms/${roomId}`, owner.token)).statusCode).toBe(204);
    await expect(onB.get(id)).rejects.toBeInstanceOf(ConversationNotFoundError);
    await expect(onB.header(id)).rejects.toBeInstanceOf(ConversationNotFoundError);
  });

  it('drops the cached copies of what deleting a user changes: their conversations and messages, their boardrooms’', async () => {
    const host = await user('Host');
    const guest = await user('Guest');
    const hostRoom = await room(host, guest);
    const byGuest = await conversation(guest.token, hostRoom);
    await post(a, byGuest, guest.token, { content: 'guest words' });
    const inGuestRoom = await conversation(guest.token, await room(guest));
    const onB = b.app.get(ConversationStateService);
    const before = await onB.get(byGuest);
    expect(before.createdBy).toBe(guest.id);
    expect(before.messages[0].authorId).toBe(guest.id);
    await onB.get(inGuestRoom);
    // What the admin route calls. The database sets created_by and author_id to null and cascades the room.
    await a.app.get(UsersService).remove(guest.id);
    const after = await onB.get(byGuest);
    expect(after.createdBy).toBeNull();
    expect(after.messages[0]).toMatchObject({ content: 'guest words', authorId: null });
    expect((await onB.header(byGuest)).createdBy).toBeNull();
    await expect(onB.get(inGuestRoom)).rejects.toBeInstanceOf(ConversationNotFoundError);
  });

  it('refuses bad input with 400, and a stale context version with 409', async () => {
    const owner = await user('Careful');
    const id = await conversation(owner.token, await room(owner));
    for (const body of [
      {},
      { content: '' },
      { content: '   ' },
      { content: 'x'.repeat(16_001) },
      { content: 42 },
      { content: 'nul \u0000 here' },
      { content: 'ok', temperature: 3 },
      { content: 'ok', cache: { ttl: -1 } },
      { content: 'ok', cache: 'yes' },
      { content: 'ok', extra: true },
      { content: 'ok', cache: null },
      { content: 'ok', cache: [{ noStore: true }] },
    ]) {
      const res = await post(a, id, owner.token, body);
      expect([JSON.stringify(body).slice(0, 60), res.statusCode]).toEqual([JSON.stringify(body).slice(0, 60), 400]);
    }
    expect((await call(a, 'POST', '/boardrooms/not-a-uuid/conversations', owner.token, {})).statusCode).toBe(400);
    expect((await call(a, 'GET', '/conversations/not-a-uuid', owner.token)).statusCode).toBe(400);
    for (const query of ['limit=1000', 'afterSeq=00', 'afterSeq=%2B1', 'afterSeq=1e0', 'limit=0x10', 'afterSeq=-1'])
      expect([query, (await call(a, 'GET', `/conversations/${id}/messages?${query}`, owner.token)).statusCode]).toEqual(
        [query, 400],
      );
    expect((await call(a, 'GET', `/conversations/${id}/messages?afterSeq=0&limit=10`, owner.token)).statusCode).toBe(
      200,
    );
    const roomId = (await call(a, 'GET', `/conversations/${id}`, owner.token)).json().boardroomId;
    expect(
      (await call(a, 'POST', `/boardrooms/${roomId}/conversations`, owner.token, { model: 'not-allowed' })).statusCode,
    ).toBe(400);

    const updated = await call(a, 'PATCH', `/conversations/${id}`, owner.token, {
      version: 1,
      context: { goal: 'grow' },
    });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ version: 2, context: { goal: 'grow' } });
    expect((await call(b, 'GET', `/conversations/${id}`, owner.token)).json().context).toEqual({ goal: 'grow' });
    const stale = await call(b, 'PATCH', `/conversations/${id}`, owner.token, {
      version: 1,
      context: { goal: 'shrink' },
    });
    expect(stale.statusCode).toBe(409);
    for (const body of [
      { version: 2, context: { bad: 'nul \u0000' } },
      { version: 2, context: { big: 'x'.repeat(70_000) } },
      { version: 2, context: [1, 2] },
      { context: {} },
    ]) {
      expect((await call(a, 'PATCH', `/conversations/${id}`, owner.token, body)).statusCode).toBe(400);
    }
    expect((await call(a, 'GET', `/conversations/${id}`, owner.token)).json()).toMatchObject({
      version: 2,
      context: { goal: 'grow' },
    });
  });
});
