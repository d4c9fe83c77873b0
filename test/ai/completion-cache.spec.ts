import {
  AiLedger,
  AiProviderError,
  CompletionCache,
  resolveAiOptions,
  type AiModuleOptions,
  type AiProvider,
  type CompletionRequest,
  type CompletionResult,
  type TokenSink,
} from '@app/ai';
import { waitFor } from '../support/free-port';
import {
  pastInvalidationMs,
  startCacheCluster,
  type CacheCluster,
  type CacheInstance,
} from '../support/cache-instance';

/** A provider that counts its calls, answers from the last message after `latencyMs`, and fails on demand. */
class CountingProvider implements AiProvider {
  readonly name = 'counting';
  calls = 0;
  /** Calls under way now. */
  inFlight = 0;
  failing = false;
  latencyMs = 0;
  /** When set, every call waits for it. */
  gate?: Promise<void>;

  async complete(request: CompletionRequest, onToken?: TokenSink): Promise<CompletionResult> {
    this.calls++;
    this.inFlight++;
    try {
      return await this.answer(request, onToken);
    } finally {
      this.inFlight--;
    }
  }

  private async answer(request: CompletionRequest, onToken?: TokenSink): Promise<CompletionResult> {
    await this.gate;
    if (this.latencyMs) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (this.failing) throw new AiProviderError('http', 'The AI provider answered HTTP 503', { status: 503 });
    const content = `answer ${this.calls} to ${request.messages.at(-1)?.content}`;
    for (const word of content.split(/(?<= )/)) onToken?.(word);
    return { content, promptTokens: 100, completionTokens: 40, model: request.model };
  }
}

const ask = (content: string, history: string[] = [], temperature = 0): CompletionRequest => ({
  model: 'm1',
  messages: [
    ...history.map((text, i) => ({ role: i % 2 ? ('assistant' as const) : ('user' as const), content: text })),
    { role: 'user', content },
  ],
  params: { temperature, maxTokens: 256 },
});
const room = { boardroomId: 'room-1', userId: 'user-1' };

/**
 * The completion cache on the real cache core (two instances sharing a
 * Redis server): what is a hit, what is a different key, single flight across
 * instances, the per-request controls, grace, and the ledger.
 */
describe('CompletionCache', () => {
  let cluster: CacheCluster;
  let provider: CountingProvider;
  const make = (instance: CacheInstance, options: Partial<AiModuleOptions> = {}) =>
    new CompletionCache(
      instance.cache,
      new AiLedger({ m1: { prompt: 2, completion: 10 } }),
      resolveAiOptions({ provider, ...options }),
    );

  beforeAll(async () => {
    cluster = await startCacheCluster(2);
  });
  afterAll(() => cluster?.close());
  beforeEach(async () => {
    provider = new CountingProvider();
    await cluster.instances[0].cache.namespace('ai').clear();
    await pastInvalidationMs(); // the first load of a test must read after the clear's millisecond
  });

  it('answers a repeated request from the cache, on either instance, and counts what it saved', async () => {
    const a = make(cluster.instances[0]);
    const b = make(cluster.instances[1]);
    const first = await a.complete({ request: ask('plan?'), audience: room });
    expect(first).toMatchObject({ cached: false, stale: false, outcome: 'miss', promptTokens: 100 });
    const hits = [];
    for (let i = 0; i < 3; i++) hits.push(await a.complete({ request: ask('plan?'), audience: room }));
    hits.push(await b.complete({ request: ask('plan?'), audience: room }));
    expect(provider.calls).toBe(1);
    for (const hit of hits) expect(hit).toMatchObject({ content: first.content, cached: true, outcome: 'hit' });
    // The ledger: 3 hits × the tokens the provider reported for the original answer, at m1's price.
    const [line] = a.ledger.lines();
    expect(line).toMatchObject({
      namespace: 'ai',
      model: 'm1',
      requests: { hit: 3, miss: 1, stale: 0, bypass: 0, error: 0 },
      tokensSaved: { prompt: 300, completion: 120 },
      providerCalls: 1,
    });
    expect(line.costSaved).toBeCloseTo((300 * 2 + 120 * 10) / 1_000_000, 12);
    expect(b.ledger.lines()[0].tokensSaved).toEqual({ prompt: 100, completion: 40 });
  });

  it('keys on the whole message list, the parameters and the scope', async () => {
    const cache = make(cluster.instances[0]);
    await cache.complete({ request: ask('plan?'), audience: room });
    await cache.complete({ request: ask('plan?', ['earlier', 'reply']), audience: room });
    await cache.complete({ request: { ...ask('plan?'), params: { temperature: 0, maxTokens: 8 } }, audience: room });
    await cache.complete({ request: { ...ask('plan?'), model: 'm2' }, audience: room });
    await cache.complete({ request: ask('plan?'), audience: { ...room, boardroomId: 'room-2' } });
    expect(provider.calls).toBe(5);
    // Boardroom scope (the default): another member of the room shares the answer.
    await cache.complete({ request: ask('plan?'), audience: { ...room, userId: 'user-2' } });
    expect(provider.calls).toBe(5);

    const perUser = make(cluster.instances[0], { scope: 'user' });
    await perUser.complete({ request: ask('mine'), audience: room });
    await perUser.complete({ request: ask('mine'), audience: { ...room, userId: 'user-2' } });
    expect(provider.calls).toBe(7);
    const global = make(cluster.instances[0], { scope: 'global' });
    await global.complete({ request: ask('everyone'), audience: room });
    await global.complete({ request: ask('everyone'), audience: { boardroomId: 'room-9', userId: 'user-9' } });
    expect(provider.calls).toBe(8);
  });

  it('does not cache a request with a temperature above 0, unless its model is listed', async () => {
    const cache = make(cluster.instances[0]);
    for (let i = 0; i < 2; i++) {
      const answer = await cache.complete({ request: ask('creative', [], 0.7), audience: room });
      expect(answer).toMatchObject({ cached: false, outcome: 'bypass' });
    }
    expect(provider.calls).toBe(2);
    const listed = make(cluster.instances[0], { cacheModels: ['m1'] });
    await listed.complete({ request: ask('creative', [], 0.7), audience: room });
    await listed.complete({ request: ask('creative', [], 0.7), audience: room });
    expect(provider.calls).toBe(3);
  });

  it('calls the provider once for identical concurrent requests on two instances', async () => {
    provider.latencyMs = 300;
    const [a, b] = cluster.instances.map((instance) => make(instance));
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).complete({ request: ask('together'), audience: room })),
    );
    expect(provider.calls).toBe(1);
    expect(new Set(answers.map((answer) => answer.content)).size).toBe(1);
    expect(answers.filter((answer) => !answer.cached)).toHaveLength(1);
  });

  it('noCache skips the lookup but stores; noStore serves a cached answer but stores nothing', async () => {
    const cache = make(cluster.instances[0]);
    const first = await cache.complete({ request: ask('controls'), audience: room });
    const refreshed = await cache.complete({ request: ask('controls'), audience: room, controls: { noCache: true } });
    expect(provider.calls).toBe(2);
    expect(refreshed).toMatchObject({ cached: false, outcome: 'miss' });
    expect(refreshed.content).not.toBe(first.content);
    // The refreshed answer replaced the first one.
    expect((await cache.complete({ request: ask('controls'), audience: room })).content).toBe(refreshed.content);

    const served = await cache.complete({ request: ask('controls'), audience: room, controls: { noStore: true } });
    expect(served).toMatchObject({ cached: true, content: refreshed.content });
    await cache.complete({ request: ask('unstored'), audience: room, controls: { noStore: true } });
    await cache.complete({ request: ask('unstored'), audience: room, controls: { noStore: true } });
    await cache.complete({ request: ask('unstored'), audience: room });
    expect(provider.calls).toBe(5);
  });

  it('runs a noStore request on its own: nobody waits for its answer, which is stored for none', async () => {
    const [a, b] = cluster.instances.map((instance) => make(instance));
    let open!: () => void;
    provider.gate = new Promise<void>((resolve) => (open = resolve));
    const unstored = a.complete({ request: ask('alone'), audience: room, controls: { noStore: true } });
    await waitFor(() => provider.inFlight === 1, 5_000, 'the noStore call');
    // Requests that store, on the other instance and on the same one, make calls of their own at once
    // (before, they waited for the noStore call, then found nothing stored: B called after its whole wait).
    const stored = [b, a].map((cache) => cache.complete({ request: ask('alone'), audience: room }));
    await waitFor(() => provider.inFlight === 2, 5_000, 'a call of the requests that store');
    open();
    await Promise.all([unstored, ...stored]);
    expect(provider.calls).toBe(2); // the two that store share one call: single flight across instances
    const again = await a.complete({ request: ask('alone'), audience: room });
    expect([again.cached, provider.calls]).toEqual([true, 2]);
  });

  it('maxAge refuses an answer older than asked; ttl is bounded by the configured TTL', async () => {
    const cache = make(cluster.instances[0]);
    await cache.complete({ request: ask('age'), audience: room });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await cache.complete({ request: ask('age'), audience: room, controls: { maxAge: 60 } })).cached).toBe(true);
    const fresh = await cache.complete({ request: ask('age'), audience: room, controls: { maxAge: 1 } });
    expect(fresh).toMatchObject({ cached: false });
    expect(provider.calls).toBe(2);

    const short = make(cluster.instances[0], { ttl: 60_000 });
    await short.complete({ request: ask('ttl'), audience: room, controls: { ttl: 10 * 24 * 3600 } });
    const keys = await cluster.instances[0].redis.client.keys(`*:c:ai:${short.keyOf(ask('ttl'), room)}`);
    expect(keys).toHaveLength(1);
    const pttl = await cluster.instances[0].redis.client.pTTL(keys[0]);
    // The request asked for 10 days; the configured TTL (60 s, no grace) wins.
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it('counts a provider failure of a request it does not cache as an error', async () => {
    const cache = make(cluster.instances[0]);
    provider.failing = true;
    await expect(cache.complete({ request: ask('creative', [], 0.7), audience: room })).rejects.toBeInstanceOf(
      AiProviderError,
    );
    expect(cache.ledger.lines()[0].requests).toEqual({ hit: 0, miss: 0, stale: 0, bypass: 0, error: 1 });
  });

  it('serves an expired answer inside grace, marked stale, when the provider fails; without one, fails', async () => {
    const cache = make(cluster.instances[0], { ttl: 1_000, grace: 60_000 });
    const first = await cache.complete({ request: ask('grace'), audience: room });
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    provider.failing = true;
    const stale = await cache.complete({ request: ask('grace'), audience: room });
    expect(stale).toMatchObject({ content: first.content, cached: true, stale: true, outcome: 'stale' });
    await expect(cache.complete({ request: ask('never seen'), audience: room })).rejects.toBeInstanceOf(
      AiProviderError,
    );
    expect(cache.ledger.lines()[0].requests).toMatchObject({ miss: 1, stale: 1, error: 1, hit: 0 });
  });

  it('keeps to maxAge when the provider fails: an expired answer older than asked is not served, the failure is', async () => {
    const cache = make(cluster.instances[0], { ttl: 1_000, grace: 60_000 });
    const first = await cache.complete({ request: ask('old grace'), audience: room });
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    provider.failing = true;
    await expect(
      cache.complete({ request: ask('old grace'), audience: room, controls: { maxAge: 1 } }),
    ).rejects.toBeInstanceOf(AiProviderError);
    // Young enough for this caller: the stale answer stands in.
    const stale = await cache.complete({ request: ask('old grace'), audience: room, controls: { maxAge: 60 } });
    expect(stale).toMatchObject({ content: first.content, stale: true, outcome: 'stale' });
    expect(cache.ledger.lines()[0].requests).toMatchObject({ miss: 1, stale: 1, error: 1 });
  });

  it('serves and caches a provider’s lone surrogates as U+FFFD, whatever the provider', async () => {
    const broken: AiProvider = {
      name: 'broken',
      complete: (request) =>
        Promise.resolve({ content: 'half \ud83d', promptTokens: 1, completionTokens: 1, model: request.model }),
    };
    const cache = new CompletionCache(
      cluster.instances[0].cache,
      new AiLedger({}),
      resolveAiOptions({ provider: broken }),
    );
    const miss = await cache.complete({ request: ask('surrogate'), audience: room });
    const hit = await cache.complete({ request: ask('surrogate'), audience: room });
    expect([miss.content, hit.outcome, hit.content]).toEqual(['half \ufffd', 'hit', 'half \ufffd']);
  });

  it('streams the provider’s chunks on a miss and replays the answer on a hit', async () => {
    const cache = make(cluster.instances[0]);
    const live: string[] = [];
    const miss = await cache.complete({ request: ask('stream'), audience: room, onToken: (t) => live.push(t) });
    const replayed: string[] = [];
    const hit = await cache.complete({ request: ask('stream'), audience: room, onToken: (t) => replayed.push(t) });
    expect(live.join('')).toBe(miss.content);
    expect(live.length).toBeGreaterThan(2);
    expect(hit.cached).toBe(true);
    expect(replayed.join('')).toBe(miss.content);
    expect(replayed.length).toBeGreaterThan(2);
  });
});

describe('CompletionCache behind a provider slower than the cache’s lock wait', () => {
  let cluster: CacheCluster;
  beforeAll(async () => {
    // The core's default wait is 5 s; here 200 ms, so a 1 s provider outlasts it.
    cluster = await startCacheCluster(2, { lockWaitMs: 200 });
  });
  afterAll(() => cluster?.close());

  it('still calls the provider once for identical requests on two instances (its own, longer wait)', async () => {
    const provider = new CountingProvider();
    provider.latencyMs = 1_000;
    const [a, b] = cluster.instances.map(
      (instance) => new CompletionCache(instance.cache, new AiLedger(), resolveAiOptions({ provider })),
    );
    const answers = await Promise.all([
      a.complete({ request: ask('slow'), audience: room }),
      b.complete({ request: ask('slow'), audience: room }),
    ]);
    expect(provider.calls).toBe(1);
    expect(answers.map((answer) => answer.cached).sort()).toEqual([false, true]);
  });
});
