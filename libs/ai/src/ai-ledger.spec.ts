import { AiLedger, parsePriceTable } from './ai-ledger';

describe(AiLedger.name, () => {
  it('adds a hit’s tokens and their price, per model and namespace', () => {
    const ledger = new AiLedger({ gpt: { prompt: 0.5, completion: 1.5 } });
    ledger.record('ai', 'gpt', 'miss');
    ledger.record('ai', 'gpt', 'hit', { promptTokens: 1_000, completionTokens: 200 });
    ledger.record('ai', 'gpt', 'hit', { promptTokens: 1_000, completionTokens: 200 });
    ledger.record('ai', 'unpriced', 'hit', { promptTokens: 10, completionTokens: 10 });
    ledger.record('other', 'gpt', 'stale', { promptTokens: 5, completionTokens: 5 });
    const [gpt, unpriced, other] = ledger.lines();
    expect(gpt).toMatchObject({ namespace: 'ai', model: 'gpt', tokensSaved: { prompt: 2_000, completion: 400 } });
    expect(gpt.requests).toEqual({ hit: 2, miss: 1, stale: 0, bypass: 0, error: 0 });
    expect(gpt.costSaved).toBeCloseTo((2_000 * 0.5 + 400 * 1.5) / 1e6, 12);
    expect(unpriced.costSaved).toBe(0);
    // A stale answer saved no tokens: the provider was called (and failed).
    expect(other).toMatchObject({ requests: { stale: 1 }, tokensSaved: { prompt: 0, completion: 0 } });
  });

  it('counts provider calls and tells its observers', () => {
    const ledger = new AiLedger();
    const seen: unknown[] = [];
    ledger.onProviderCall((...args) => seen.push(args));
    ledger.providerCall('ai', 'm', 0.25, true);
    ledger.providerCall('ai', 'm', 0.75, false);
    expect(ledger.lines()[0]).toMatchObject({ providerCalls: 2, providerSeconds: 1 });
    expect(seen).toEqual([
      ['m', 0.25, true],
      ['m', 0.75, false],
    ]);
  });

  it('returns copies: a caller cannot change the totals', () => {
    const ledger = new AiLedger();
    ledger.record('ai', 'm', 'miss');
    (ledger.lines()[0].requests as Record<string, number>).miss = 99;
    expect(ledger.lines()[0].requests.miss).toBe(1);
  });
});

describe(parsePriceTable.name, () => {
  it('reads prices per million tokens', () => {
    expect(parsePriceTable('{"a":{"prompt":0.15,"completion":0.6},"b":{"prompt":0,"completion":0}}')).toEqual({
      a: { prompt: 0.15, completion: 0.6 },
      b: { prompt: 0, completion: 0 },
    });
  });

  it.each([
    ['not json', 'is not valid JSON'],
    ['[1]', 'must be a JSON object'],
    ['{"a":{"prompt":-1,"completion":1}}', 'bad price for "a"'],
    ['{"a":{"prompt":"1","completion":1}}', 'bad price for "a"'],
    ['{"a":null}', 'bad price for "a"'],
  ])('refuses %s', (json, message) => {
    expect(() => parsePriceTable(json)).toThrow(message);
  });
});
