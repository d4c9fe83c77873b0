import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the fake endpoint received. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: {
    model: string;
    messages: Array<{ role: string; content: string }>;
    temperature?: number;
    max_tokens?: number;
    stream?: boolean;
    stream_options?: { include_usage?: boolean };
  };
}

/** What the fake does with the next requests, in order; then it answers normally. */
export type FakeBehaviour =
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'hang' }
  /** Answers normally once `until` settles: a test holds the provider mid-call. */
  | { kind: 'gate'; until: Promise<unknown> }
  | { kind: 'reset' }
  | { kind: 'break-stream' }
  | { kind: 'raw'; contentType: string; body: string };

/**
 * A local OpenAI-compatible chat-completions endpoint for tests: answers
 * `POST /v1/chat/completions` as JSON or as server-sent events, with usage;
 * the answer is derived from the last message, so tests can predict it.
 * `behave` queues failures (a status, a hang, a reset connection, a stream
 * cut off mid-way); every request is recorded.
 */
export class FakeOpenAi {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: FakeBehaviour[] = [];
  /** Delay before answering (ms). */
  latencyMs = 0;
  private readonly hung = new Set<ServerResponse>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FakeOpenAi> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => void fake.handle(req.method ?? '', req.url ?? '', req.headers, Buffer.concat(chunks), res));
    });
    const fake = new FakeOpenAi(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** `http://127.0.0.1:{port}/v1`. */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** The app's variables that point it at this endpoint (model `test-model`, no retries unless `env` says otherwise). */
  appEnv(env: Record<string, string> = {}): Record<string, string> {
    return { AI_PROVIDER: 'openai', AI_BASE_URL: this.baseUrl, AI_MODEL: 'test-model', AI_MAX_RETRIES: '0', ...env };
  }

  /** Completion calls received. */
  get calls(): number {
    return this.requests.length;
  }

  /** The answer the fake gives to a last message. */
  static answerTo(content: string): string {
    return `Answer to: ${content}`;
  }

  behave(...behaviours: FakeBehaviour[]): void {
    this.queue.push(...behaviours);
  }

  async close(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(
    method: string,
    url: string,
    headers: IncomingHttpHeaders,
    raw: Buffer,
    res: ServerResponse,
  ): Promise<void> {
    if (method !== 'POST' || url !== '/v1/chat/completions') {
      res.writeHead(404).end();
      return;
    }
    const body = JSON.parse(raw.toString('utf8')) as RecordedRequest['body'];
    this.requests.push({ method, url, headers, body });
    const behaviour = this.queue.shift();
    if (this.latencyMs) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (behaviour?.kind === 'status') {
      res.writeHead(behaviour.status, {
        'content-type': 'application/json',
        ...(behaviour.retryAfter && { 'retry-after': behaviour.retryAfter }),
      });
      res.end(JSON.stringify({ error: { message: 'upstream says no', type: 'server_error' } }));
      return;
    }
    if (behaviour?.kind === 'gate') await behaviour.until.catch(() => undefined);
    if (behaviour?.kind === 'hang') {
      this.hung.add(res);
      return;
    }
    if (behaviour?.kind === 'raw') {
      res.writeHead(200, { 'content-type': behaviour.contentType });
      res.end(behaviour.body);
      return;
    }
    if (behaviour?.kind === 'reset') {
      res.socket?.destroy();
      return;
    }
    const content = FakeOpenAi.answerTo(body.messages.at(-1)?.content ?? '');
    const usage = { prompt_tokens: 11 * body.messages.length, completion_tokens: 7, total_tokens: 0 };
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-test',
          object: 'chat.completion',
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
          usage,
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const words = content.split(/(?<= )/);
    for (const [i, word] of words.entries()) {
      if (behaviour?.kind === 'break-stream' && i === 2) {
        res.socket?.destroy();
        return;
      }
      res.write(
        `data: ${JSON.stringify({ model: body.model, choices: [{ index: 0, delta: { content: word } }] })}\n\n`,
      );
      await new Promise((resolve) => setImmediate(resolve));
    }
    res.write(`data: ${JSON.stringify({ model: body.model, choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
  }
}
