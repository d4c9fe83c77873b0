import type { L1Entry } from '../cache-entry';
import type { ChannelInvalidation, ChannelListener, InvalidationChannel } from '../bus/invalidation-channel';
import { engineContext } from './engine-context.fixture';
import { Invalidator } from './invalidator';
import { PeerState } from './peer-state';
import type { RemoteTier } from './remote-tier';

describe(Invalidator.name, () => {
  const entry = (tags: string[]): L1Entry => ({
    value: 'v',
    expiresAt: Date.now() + 60_000,
    graceUntil: Date.now() + 60_000,
    tags,
    ttlMs: 60_000,
  });

  async function setup() {
    const ctx = engineContext();
    const remote = { configured: true, available: true, breaker: { closed: true } } as unknown as RemoteTier;
    const hooks = { released: jest.fn(), startProbe: jest.fn() };
    const invalidator = new Invalidator(ctx, remote, undefined, hooks, new PeerState());
    let listener!: ChannelListener;
    const channel: InvalidationChannel = {
      start: (l) => {
        listener = l;
        return Promise.resolve();
      },
      publish: () => Promise.resolve(),
      barrier: () => Promise.resolve(),
      stop: () => Promise.resolve(),
      listening: true,
    };
    await invalidator.useChannel(channel);
    const onChannel = (invalidation: ChannelInvalidation) => listener.message(invalidation);
    return { ctx, hooks, invalidator, onChannel };
  }

  it('applies an invalidation once: its second copy, on the other channel, leaves what was read since', async () => {
    const { ctx, invalidator, onChannel } = await setup();
    ctx.l1.set('k', entry(['t']), 1);
    invalidator.onBusMessage({ tags: ['t'], id: 'x1' });
    expect(ctx.l1.peek('k')).toBeUndefined();

    ctx.l1.set('k', entry(['t']), 1); // read again after the bus copy
    const load = ctx.tracker.begin();
    onChannel({ keys: [], tags: ['t'], ids: ['x1'] });
    expect(ctx.l1.peek('k')).toBeDefined();
    expect(ctx.tracker.changed(load, 'k', ['t'])).toBe(false);

    // The other order: the channel's copy first, then the bus's.
    onChannel({ keys: ['k'], tags: [], ids: ['x2'] });
    expect(ctx.l1.peek('k')).toBeUndefined();
    ctx.l1.set('k', entry(['t']), 1);
    invalidator.onBusMessage({ keys: ['k'], id: 'x2' });
    expect(ctx.l1.peek('k')).toBeDefined();
  });

  it('applies a merged channel message holding one invalidation not seen yet, and one without ids', async () => {
    const { ctx, invalidator, onChannel } = await setup();
    invalidator.onBusMessage({ tags: ['t'], id: 'a' });
    ctx.l1.set('k', entry(['t']), 1);
    onChannel({ keys: [], tags: ['t'], ids: ['a', 'b'] });
    expect(ctx.l1.peek('k')).toBeUndefined();

    ctx.l1.set('k', entry(['t']), 1);
    onChannel({ keys: [], tags: ['t'] });
    expect(ctx.l1.peek('k')).toBeUndefined();
    ctx.l1.set('k', entry(['t']), 1);
    invalidator.onBusMessage({ tags: ['t'] });
    expect(ctx.l1.peek('k')).toBeUndefined();
  });

  it('still wakes the lock waiters of a bus message whose invalidation it already applied', async () => {
    const { hooks, invalidator, onChannel } = await setup();
    onChannel({ keys: ['k'], tags: [], ids: ['r'] });
    invalidator.onBusMessage({ keys: ['k'], released: ['lock'], id: 'r' });
    expect(hooks.released).toHaveBeenCalledWith(['lock']);
  });

  it('replays the tags queued during an outage in batches of 500, to Redis and on the bus', async () => {
    const ctx = engineContext();
    const l2 = { invalidateTags: jest.fn(() => Promise.resolve()), delete: jest.fn(() => Promise.resolve()) };
    const bus = { publish: jest.fn(() => Promise.resolve()) };
    const remote = { configured: true, available: false, breaker: { closed: false, trip: jest.fn() }, l2 };
    const hooks = { released: jest.fn(), startProbe: jest.fn() };
    const invalidator = new Invalidator(
      ctx,
      remote as unknown as RemoteTier,
      bus as unknown as ConstructorParameters<typeof Invalidator>[2],
      hooks,
      new PeerState(),
    );
    const tags = Array.from({ length: 1_201 }, (_, i) => `t${i}`);
    await invalidator.invalidateTags(tags);
    ctx.l1.set('k', entry(['t1200']), 1); // read from L2 while the invalidation waited
    remote.available = true;
    await invalidator.replayPending();
    // One script of 1,201 markers could outlast the command deadline on every probe: the replay would never end.
    expect(l2.invalidateTags.mock.calls.map(([batch]: string[][]) => batch.length)).toEqual([500, 500, 201]);
    expect(l2.invalidateTags.mock.calls.flatMap(([batch]: string[][]) => batch)).toEqual(tags);
    expect(bus.publish.mock.calls.map(([m]: Array<{ tags: string[] }>) => m.tags.length)).toEqual([500, 500, 201]);
    expect(ctx.l1.peek('k')).toBeUndefined();
  });
});
