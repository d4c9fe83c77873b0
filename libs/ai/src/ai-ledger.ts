/** Price of a model's tokens, in money units (USD, say) per million tokens. */
export interface ModelPrice {
  readonly prompt: number;
  readonly completion: number;
}

/** Prices by model name; a model not listed costs 0 (nothing is claimed saved). */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/** How a completion request was answered. */
export type CompletionOutcome = 'hit' | 'miss' | 'stale' | 'bypass' | 'error';

/** Totals of one model in one cache namespace. */
export interface LedgerLine {
  readonly namespace: string;
  readonly model: string;
  readonly requests: Readonly<Record<CompletionOutcome, number>>;
  /** Tokens the provider did not have to produce again, as it reported them for the original answer. */
  readonly tokensSaved: { readonly prompt: number; readonly completion: number };
  /** `tokensSaved` at the model's price. */
  readonly costSaved: number;
  /** Provider calls made, and their total duration (seconds). */
  readonly providerCalls: number;
  readonly providerSeconds: number;
}

interface MutableLine {
  namespace: string;
  model: string;
  requests: Record<CompletionOutcome, number>;
  tokensSaved: { prompt: number; completion: number };
  costSaved: number;
  providerCalls: number;
  providerSeconds: number;
}

/** Told of each provider call's duration (Prometheus histograms). */
export type ProviderCallObserver = (model: string, seconds: number, ok: boolean) => void;

/**
 * What the completion cache saved, per model and namespace: every hit adds
 * the tokens the provider reported for the answer it replays and their price.
 * In process memory (per instance, since boot): Prometheus sums the
 * instances; the admin API reads `lines()`.
 */
export class AiLedger {
  private readonly byKey = new Map<string, MutableLine>();
  private readonly observers: ProviderCallObserver[] = [];

  constructor(private readonly prices: PriceTable = {}) {}

  /** Counts a request's result; a hit adds its saved tokens and their cost. */
  record(
    namespace: string,
    model: string,
    result: CompletionOutcome,
    saved?: { promptTokens: number; completionTokens: number },
  ): void {
    const line = this.line(namespace, model);
    line.requests[result]++;
    if (result !== 'hit' || !saved) return;
    line.tokensSaved.prompt += saved.promptTokens;
    line.tokensSaved.completion += saved.completionTokens;
    line.costSaved += this.cost(model, saved.promptTokens, saved.completionTokens);
  }

  /** Counts one provider call. */
  providerCall(namespace: string, model: string, seconds: number, ok: boolean): void {
    const line = this.line(namespace, model);
    line.providerCalls++;
    line.providerSeconds += seconds;
    for (const observer of this.observers) observer(model, seconds, ok);
  }

  /** Calls `observer` after every provider call. */
  onProviderCall(observer: ProviderCallObserver): void {
    this.observers.push(observer);
  }

  /** The price of tokens of `model`, 0 when the table does not list it. */
  cost(model: string, promptTokens: number, completionTokens: number): number {
    const price = this.prices[model];
    if (!price) return 0;
    return (promptTokens * price.prompt + completionTokens * price.completion) / 1_000_000;
  }

  /** Every line, as copies. */
  lines(): LedgerLine[] {
    return [...this.byKey.values()].map((line) => ({
      ...line,
      requests: { ...line.requests },
      tokensSaved: { ...line.tokensSaved },
    }));
  }

  private line(namespace: string, model: string): MutableLine {
    const key = `${namespace}\u0000${model}`;
    let line = this.byKey.get(key);
    if (!line) {
      line = {
        namespace,
        model,
        requests: { hit: 0, miss: 0, stale: 0, bypass: 0, error: 0 },
        tokensSaved: { prompt: 0, completion: 0 },
        costSaved: 0,
        providerCalls: 0,
        providerSeconds: 0,
      };
      this.byKey.set(key, line);
    }
    return line;
  }
}

/**
 * A price table from JSON: `{"model": {"prompt": 0.15, "completion": 0.6}}`
 * (per million tokens). Throws with the offending model on a bad entry.
 */
export function parsePriceTable(json: string): PriceTable {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (cause) {
    throw new Error('is not valid JSON', { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('must be a JSON object of model → {prompt, completion}');
  const table: Record<string, ModelPrice> = {};
  for (const [model, price] of Object.entries(parsed as Record<string, unknown>)) {
    const { prompt, completion } = (price ?? {}) as Record<string, unknown>;
    const valid = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;
    if (!valid(prompt) || !valid(completion))
      throw new Error(`has a bad price for "${model.slice(0, 60)}": prompt and completion must be numbers >= 0`);
    table[model] = { prompt: prompt as number, completion: completion as number };
  }
  return table;
}
