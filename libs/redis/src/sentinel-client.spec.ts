import { describeSentinel, SentinelHandle, type SentinelLike } from './sentinel-client';

describe(SentinelHandle.name, () => {
  it('sends raw commands to the master (isReadonly false) and passes every other call through, bound', async () => {
    const calls: unknown[][] = [];
    const fake = (open: boolean) =>
      ({
        isOpen: open,
        sendCommand: (...args: unknown[]) => {
          calls.push(args);
          return Promise.resolve('OK');
        },
        get(this: { isOpen: boolean }, key: string) {
          return Promise.resolve(this.isOpen ? `value of ${key}` : null);
        },
      }) as unknown as SentinelLike;
    const handle = new SentinelHandle(fake(true));
    const client = handle.client;
    await expect(client.sendCommand(['SET', 'k', 'v'])).resolves.toBe('OK');
    expect(calls).toEqual([[false, ['SET', 'k', 'v'], undefined]]);
    const get = client.get;
    await expect(get('k')).resolves.toBe('value of k'); // `this` is the sentinel, even detached
    expect(client.get).toBe(get); // bound once
    expect(client.isOpen).toBe(true);

    // Swapped: the same client object now reaches the new target, methods included.
    const previous = handle.swap(fake(false));
    expect(previous.isOpen).toBe(true);
    expect(client.isOpen).toBe(false);
    await expect(client.get('k')).resolves.toBeNull();
  });
});

describe(describeSentinel.name, () => {
  it('names the master and the sentinels, nothing else', () => {
    expect(
      describeSentinel({
        masterName: 'bp',
        nodes: [
          { host: 's1', port: 26379 },
          { host: '::1', port: 26380 },
        ],
      }),
    ).toBe('sentinel master bp via s1:26379,::1:26380');
  });
});
