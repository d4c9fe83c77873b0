import { withDeadline } from './deadline';
import { RedisTimeoutError } from './redis.errors';

describe(withDeadline.name, () => {
  it('passes through a result that arrives in time', async () => {
    await expect(withDeadline(Promise.resolve(42), 50)).resolves.toBe(42);
  });

  it('passes through an error that arrives in time', async () => {
    await expect(withDeadline(Promise.reject(new Error('boom')), 50)).rejects.toThrow('boom');
  });

  it('rejects with E_REDIS_TIMEOUT when the operation never settles', async () => {
    const never = new Promise<never>(() => undefined);
    const error = await withDeadline(never, 20, 'PING').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisTimeoutError);
    expect(error).toMatchObject({ code: 'E_REDIS_TIMEOUT', message: 'PING did not answer within 20 ms' });
  });

  it('swallows the late rejection of a timed-out operation', async () => {
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    let fail!: (e: Error) => void;
    const late = new Promise<never>((_, reject) => (fail = reject));
    await expect(withDeadline(late, 10)).rejects.toBeInstanceOf(RedisTimeoutError);
    fail(new Error('late'));
    await new Promise((r) => setTimeout(r, 20));
    process.off('unhandledRejection', unhandled);
    expect(unhandled).not.toHaveBeenCalled();
  });
});

describe('withDeadline under load', () => {
  it('times out only the call that never settles among many that do', async () => {
    const never = withDeadline(new Promise<never>(() => undefined), 30).catch((e: unknown) => e);
    const settled = await Promise.all(Array.from({ length: 1_000 }, (_, i) => withDeadline(Promise.resolve(i), 30)));
    expect(settled[999]).toBe(999);
    await new Promise((r) => setTimeout(r, 60));
    const results = await Promise.all([never, withDeadline(Promise.resolve('after'), 30)]);
    expect(results[0]).toBeInstanceOf(RedisTimeoutError);
    expect(results[1]).toBe('after');
  });
});
