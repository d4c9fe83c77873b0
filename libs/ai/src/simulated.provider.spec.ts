import type { CompletionRequest } from './ai-provider';
import { SimulatedProvider } from './simulated.provider';

const request = (content: string, history: string[] = []): CompletionRequest => ({
  model: 'sim',
  messages: [...history.map((text) => ({ role: 'user' as const, content: text })), { role: 'user', content }],
  params: { temperature: 0, maxTokens: 256 },
});

describe(SimulatedProvider.name, () => {
  const provider = new SimulatedProvider(0);

  it('gives the same answer to the same request, and a different one to a different history', async () => {
    const first = await provider.complete(request('What now?'));
    expect(await provider.complete(request('What now?'))).toEqual(first);
    const other = await provider.complete(request('What now?', ['Earlier question']));
    expect(other.content).not.toBe(first.content);
    expect(other.promptTokens).toBeGreaterThan(first.promptTokens);
  });

  it('streams the answer in chunks that make up the whole, one completion token per chunk', async () => {
    const chunks: string[] = [];
    const answer = await provider.complete(request('Stream'), (text) => chunks.push(text));
    expect(chunks.join('')).toBe(answer.content);
    expect(answer.completionTokens).toBe(chunks.length);
  });

  it('quotes the message by code points: a surrogate pair at the cut stays whole', async () => {
    const answer = await provider.complete(request(`${'x'.repeat(39)}\u{1F600} and more`));
    expect(answer.content.startsWith(`On "${'x'.repeat(39)}\u{1F600}":`)).toBe(true);
  });

  it('keeps to maxTokens', async () => {
    const answer = await provider.complete({ ...request('Short'), params: { temperature: 0, maxTokens: 3 } });
    expect(answer.content.split(': ')[1].split(' ')).toHaveLength(3);
  });

  it('stops with an aborted error when its signal aborts', async () => {
    const slow = new SimulatedProvider(10_000);
    const controller = new AbortController();
    const pending = slow.complete({ ...request('Abort me'), signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'E_AI_PROVIDER', failure: 'aborted' });
  });
});
