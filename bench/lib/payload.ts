/** The cached value of every latency scenario: what a typical entity read returns. */
export interface Payload {
  id: number;
  slug: string;
  title: string;
  summary: string;
  ownerEmail: string;
  model: string;
  score: number;
  views: number;
  active: boolean;
  createdAt: Date;
  tags: string[];
  messages: Array<{ role: string; tokens: number; content: string }>;
}

const LOREM =
  'The board reviewed the quarterly plan, weighed the hiring budget against the roadmap and asked the assistant';

/**
 * A JSON-like value of about 1.2 KB once serialized: a few strings and
 * numbers, a nested array of objects and a Date (which a JSON round trip
 * turns into a string, so it also shows who restores types).
 */
export function makePayload(id: number): Payload {
  return {
    id,
    slug: `boardroom-${id}`,
    title: `Boardroom ${id}: quarterly planning and budget review`,
    summary: 'Decisions, owners and open questions from the last session, kept for the next one to start from.',
    ownerEmail: `owner.${id}@example.com`,
    model: 'gpt-4o-mini',
    score: (id % 97) / 7,
    views: id * 31,
    active: id % 2 === 0,
    createdAt: new Date(1_700_000_000_000 + id * 1000),
    tags: ['planning', 'budget', 'q3', `team-${id % 10}`],
    messages: [0, 1, 2, 3, 4].map((n) => ({
      role: n % 2 === 0 ? 'user' : 'assistant',
      tokens: 100 + n * 17,
      content: `${LOREM} (#${n}).`,
    })),
  };
}

/** Length of the payload as JSON, for the report. */
export function payloadBytes(): number {
  return Buffer.byteLength(JSON.stringify(makePayload(1234)));
}
