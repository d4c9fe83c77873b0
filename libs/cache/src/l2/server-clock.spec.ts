import { ServerClock } from './server-clock';

describe(ServerClock.name, () => {
  it('is neither observed nor fresh before any observation', () => {
    const clock = new ServerClock(1_000);
    expect(clock.observed).toBe(false);
    expect(clock.fresh).toBe(false);
  });

  it('advances an observed server time by the local elapsed time', async () => {
    const clock = new ServerClock(1_000);
    clock.observe(1_000_000);
    expect(clock.observed).toBe(true);
    expect(clock.fresh).toBe(true);
    await new Promise((r) => setTimeout(r, 30));
    expect(clock.now()).toBeGreaterThanOrEqual(1_000_025);
    expect(clock.now()).toBeLessThan(1_000_900);
  });

  it('ignores replies that carry no time (a refused write returns 0)', () => {
    const clock = new ServerClock(1_000);
    clock.observe(0);
    expect(clock.observed).toBe(false);
    expect(clock.fresh).toBe(false);
  });

  it('stops being fresh after maxAgeMs', async () => {
    const clock = new ServerClock(20);
    clock.observe(1_000_000);
    await new Promise((r) => setTimeout(r, 40));
    expect(clock.fresh).toBe(false);
  });
});
