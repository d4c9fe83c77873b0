import { reconnectDelay } from './reconnect-strategy';

describe(reconnectDelay.name, () => {
  it('grows exponentially from the base delay', () => {
    const fixed = () => 1; // the top of the jitter range
    expect([0, 1, 2, 3].map((n) => reconnectDelay(n, 10_000, fixed))).toEqual([50, 100, 200, 400]);
  });

  it('never exceeds the maximum, however many retries', () => {
    for (const retries of [10, 100, 10_000]) expect(reconnectDelay(retries, 2_000, () => 1)).toBe(2_000);
  });

  it('keeps at least half of the delay and randomises the rest', () => {
    expect(reconnectDelay(20, 2_000, () => 0)).toBe(1_000);
    const samples = new Set(Array.from({ length: 50 }, () => reconnectDelay(20, 2_000)));
    expect(samples.size).toBeGreaterThan(10);
    for (const delay of samples) expect(delay).toBeGreaterThanOrEqual(1_000);
  });
});
