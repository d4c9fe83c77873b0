import { SingleFlight } from './single-flight';

/** A promise and the functions that settle it. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe(SingleFlight.name, () => {
  it('runs fn once for concurrent calls of one key, and gives every caller its value', async () => {
    const flights = new SingleFlight();
    const gate = deferred<string>();
    let runs = 0;
    const fn = () => (runs++, gate.promise);
    const callers = Array.from({ length: 10 }, () => flights.run('k', fn));
    expect(flights.has('k')).toBe(true);
    expect(flights.size).toBe(1);
    gate.resolve('v');
    expect(await Promise.all(callers)).toEqual(Array(10).fill('v'));
    expect(runs).toBe(1);
  });

  it('runs different keys independently', async () => {
    const flights = new SingleFlight();
    const runs: string[] = [];
    const results = await Promise.all([
      flights.run('a', () => (runs.push('a'), Promise.resolve(1))),
      flights.run('b', () => (runs.push('b'), Promise.resolve(2))),
    ]);
    expect(results).toEqual([1, 2]);
    expect(runs.sort()).toEqual(['a', 'b']);
  });

  it('gives the failure to every waiter', async () => {
    const flights = new SingleFlight();
    const gate = deferred<string>();
    const callers = Array.from({ length: 3 }, () => flights.run('k', () => gate.promise));
    gate.reject(new Error('db down'));
    const settled = await Promise.allSettled(callers);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const s of settled) expect((s as PromiseRejectedResult).reason).toEqual(new Error('db down'));
  });

  it('turns a synchronous throw of fn into a rejection', async () => {
    const flights = new SingleFlight();
    const fn = (): Promise<never> => {
      throw new Error('sync');
    };
    await expect(flights.run('k', fn)).rejects.toThrow('sync');
    expect(flights.size).toBe(0);
  });

  it('frees the key after a success: the next call runs fn again', async () => {
    const flights = new SingleFlight();
    let runs = 0;
    expect(await flights.run('k', () => Promise.resolve(++runs))).toBe(1);
    expect(flights.has('k')).toBe(false);
    expect(await flights.run('k', () => Promise.resolve(++runs))).toBe(2);
  });

  it('frees the key after a failure: the failure is not cached', async () => {
    const flights = new SingleFlight();
    await expect(flights.run('k', () => Promise.reject(new Error('once')))).rejects.toThrow('once');
    expect(flights.has('k')).toBe(false);
    expect(await flights.run('k', () => Promise.resolve('ok'))).toBe('ok');
  });

  it('keeps nothing once every flight settled, whatever the outcome (no leak)', async () => {
    const flights = new SingleFlight();
    const calls = Array.from({ length: 100 }, (_, i) =>
      flights.run(`k${i % 10}`, () => (i % 2 ? Promise.resolve(i) : Promise.reject(new Error(String(i))))),
    );
    expect(flights.size).toBe(10);
    await Promise.allSettled(calls);
    expect(flights.size).toBe(0);
  });
});
