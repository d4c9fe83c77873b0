import { AiProviderError, OpenAiProvider, type CompletionRequest } from '@app/ai';
import { FakeOpenAi } from '../support/fake-openai';

/**
 * `OpenAiProvider` against a local OpenAI-compatible endpoint: the request
 * it sends, JSON and streamed answers, the deadline, and which failures it
 * retries.
 */
describe('OpenAiProvider against a local OpenAI-compatible endpoint', () => {
  let fake: FakeOpenAi;
  const request: CompletionRequest = {
    model: 'test-model',
    messages: [
      { role: 'system', content: 'Be brief' },
      { role: 'user', content: 'Hello there' },
    ],
    params: { temperature: 0, maxTokens: 64 },
  };
  const provider = (options: Partial<ConstructorParameters<typeof OpenAiProvider>[0]> = {}) =>
    new OpenAiProvider({
      baseUrl: `${fake.baseUrl}/`,
      apiKey: 'sk-test-secret-key',
      timeoutMs: 2_000,
      maxRetries: 2,
      retryBaseMs: 10,
      ...options,
    });

  beforeEach(async () => {
    fake = await FakeOpenAi.start();
  });
  afterEach(() => fake.close());

  it('sends the model, the whole message list, the parameters and the key, and reads the answer and usage', async () => {
    const answer = await provider().complete(request);
    expect(answer).toEqual({
      content: FakeOpenAi.answerTo('Hello there'),
      promptTokens: 22,
      completionTokens: 7,
      model: 'test-model',
    });
    expect(fake.calls).toBe(1);
    const [sent] = fake.requests;
    expect(sent.headers.authorization).toBe('Bearer sk-test-secret-key');
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.body).toEqual({
      model: 'test-model',
      messages: request.messages,
      temperature: 0,
      max_tokens: 64,
      stream: false,
    });
  });

  it('streams: passes each chunk on as it arrives and asks for the usage in the last one', async () => {
    const chunks: string[] = [];
    const answer = await provider().complete(request, (text) => chunks.push(text));
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.join('')).toBe(FakeOpenAi.answerTo('Hello there'));
    expect(answer.content).toBe(chunks.join(''));
    expect(answer.completionTokens).toBe(7);
    expect(answer.estimated).toBeUndefined();
    expect(fake.requests[0].body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(fake.requests[0].headers.accept).toBe('text/event-stream');
  });

  it('retries a 500, a 429 and a reset connection with backoff, then answers', async () => {
    fake.behave({ kind: 'status', status: 500 }, { kind: 'status', status: 429, retryAfter: '0' });
    const retries: number[] = [];
    const answer = await provider({ onRetry: (attempt) => retries.push(attempt) }).complete(request);
    expect(answer.content).toBe(FakeOpenAi.answerTo('Hello there'));
    expect(fake.calls).toBe(3);
    expect(retries).toEqual([1, 2]);

    fake.behave({ kind: 'reset' });
    await expect(provider().complete(request)).resolves.toMatchObject({ completionTokens: 7 });
  });

  it('gives up after the bounded retries with a 502-coded error that names the status only', async () => {
    fake.behave(...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 503 })));
    const error = await provider()
      .complete(request)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AiProviderError);
    expect(error).toMatchObject({ code: 'E_AI_PROVIDER', failure: 'http', status: 503 });
    expect((error as Error).message).toBe('The AI provider answered HTTP 503');
    expect(fake.calls).toBe(3);
  });

  it('does not retry a client error (400, 401)', async () => {
    fake.behave({ kind: 'status', status: 401 });
    await expect(provider().complete(request)).rejects.toMatchObject({ failure: 'http', status: 401 });
    expect(fake.calls).toBe(1);
  });

  it('fails a hung endpoint at the deadline, without retrying it', async () => {
    fake.behave({ kind: 'hang' });
    await expect(provider({ timeoutMs: 200 }).complete(request)).rejects.toMatchObject({ failure: 'timeout' });
    expect(fake.calls).toBe(1);
  });

  it('does not retry a stream that broke after text was passed on', async () => {
    fake.behave({ kind: 'break-stream' });
    const chunks: string[] = [];
    await expect(provider().complete(request, (text) => chunks.push(text))).rejects.toBeInstanceOf(AiProviderError);
    expect(chunks.length).toBeGreaterThan(0);
    expect(fake.calls).toBe(1);
  });

  it('never puts the key in an error', async () => {
    fake.behave(...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 500 })));
    const error = (await provider()
      .complete(request)
      .catch((e: unknown) => e)) as Error;
    const everything = JSON.stringify([error.message, String(error.cause), error.stack, Object.entries(error)]);
    expect(everything).not.toContain('sk-test-secret-key');
  });

  it('reads CRLF events, data without a space and multi-line data, and requires the end of the stream', async () => {
    const event = (delta: string) => JSON.stringify({ choices: [{ delta: { content: delta } }] });
    fake.behave({
      kind: 'raw',
      contentType: 'text/event-stream',
      body: `data:${event('Hel')}\r\n\r\ndata: ${event('lo')}\r\n\r\n: a comment\n\ndata: [DONE]\r\n\r\n`,
    });
    const chunks: string[] = [];
    const answer = await provider().complete(request, (text) => chunks.push(text));
    expect(answer.content).toBe('Hello');
    expect(answer.estimated).toBe(true);

    // Cut off cleanly after some text, with neither [DONE] nor a finish_reason: not a whole answer.
    fake.behave({ kind: 'raw', contentType: 'text/event-stream', body: `data: ${event('Half an ')}\n\n` });
    await expect(provider({ maxRetries: 0 }).complete(request, () => undefined)).rejects.toMatchObject({
      failure: 'protocol',
    });
    // A finish_reason on the last chunk, and the last line without a newline, still count.
    const last = JSON.stringify({ choices: [{ delta: { content: 'end' }, finish_reason: 'stop' }] });
    fake.behave({ kind: 'raw', contentType: 'text/event-stream', body: `data: ${last}` });
    expect((await provider().complete(request, () => undefined)).content).toBe('end');
  });

  it('replaces NUL characters and clamps token counts before anything is stored', async () => {
    fake.behave({
      kind: 'raw',
      contentType: 'application/json',
      body: JSON.stringify({
        choices: [{ message: { content: 'a\u0000b' } }],
        usage: { prompt_tokens: 2 ** 40, completion_tokens: 3 },
      }),
    });
    expect(await provider().complete(request)).toMatchObject({
      content: 'a\ufffdb',
      promptTokens: 2_147_483_647,
      completionTokens: 3,
    });
  });

  it('replaces lone surrogates, in a JSON answer and in a streamed one, with U+FFFD as Postgres would store them', async () => {
    fake.behave({
      kind: 'raw',
      contentType: 'application/json',
      body: JSON.stringify({ choices: [{ message: { content: 'a\ud800b\udfff' } }] }),
    });
    expect((await provider().complete(request)).content).toBe('a\ufffdb\ufffd');
    // A pair split over two chunks is one character, not two halves.
    const chunk = (content: string, finish?: string) =>
      `data: ${JSON.stringify({ choices: [{ delta: { content }, ...(finish && { finish_reason: finish }) }] })}\n\n`;
    fake.behave({
      kind: 'raw',
      contentType: 'text/event-stream',
      body: chunk('\ud83d') + chunk('\ude00 \udc00') + chunk('!', 'stop'),
    });
    expect((await provider().complete(request, () => undefined)).content).toBe('\u{1F600} \ufffd!');
  });

  it('does not retry into a Retry-After longer than it would wait', async () => {
    fake.behave({ kind: 'status', status: 429, retryAfter: '120' });
    await expect(provider().complete(request)).rejects.toMatchObject({ failure: 'http', status: 429 });
    expect(fake.calls).toBe(1);
  });
});
