import type { CompletionRequest } from './ai-provider';
import { completionKey, scopeKey } from './completion-cache';

const base: CompletionRequest = {
  model: 'm',
  messages: [
    { role: 'system', content: 'sys' },
    { role: 'user', content: 'q' },
  ],
  params: { temperature: 0, maxTokens: 100 },
};

describe(completionKey.name, () => {
  const key = (request: CompletionRequest, provider = 'p', scope = 's') => completionKey(provider, request, scope);

  it('is a SHA-256 in hex, the same for the same request', () => {
    expect(key(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(key({ ...base, messages: base.messages.map((m) => ({ ...m })) })).toBe(key(base));
  });

  it('changes with anything the model sees or is asked', () => {
    const variants: CompletionRequest[] = [
      { ...base, model: 'm2' },
      { ...base, messages: [{ role: 'user', content: 'q' }] },
      {
        ...base,
        messages: [
          { role: 'system', content: 'sys' },
          { role: 'assistant', content: 'q' },
        ],
      },
      { ...base, messages: [...base.messages, { role: 'user', content: 'more' }] },
      { ...base, params: { temperature: 0, maxTokens: 101 } },
      { ...base, params: { temperature: 0.5, maxTokens: 100 } },
    ];
    const keys = new Set([key(base), ...variants.map((v) => key(v))]);
    expect(keys.size).toBe(variants.length + 1);
    expect(key(base, 'other')).not.toBe(key(base));
    expect(key(base, 'p', 'other')).not.toBe(key(base));
  });

  it('keeps message boundaries: moving text between messages is a different key', () => {
    const split = (a: string, b: string): CompletionRequest => ({
      ...base,
      messages: [
        { role: 'user', content: a },
        { role: 'user', content: b },
      ],
    });
    expect(key(split('ab', 'c'))).not.toBe(key(split('a', 'bc')));
  });
});

describe(scopeKey.name, () => {
  const audience = { boardroomId: 'b1', userId: 'u1' };
  it('names who shares the answer', () => {
    expect(scopeKey('global', audience)).toBe('global');
    expect(scopeKey('boardroom', audience)).toBe('boardroom:b1');
    expect(scopeKey('user', audience)).toBe('user:u1');
  });
});
