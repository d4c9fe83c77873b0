import { EventEmitter } from 'node:events';
import type { ChannelInvalidation } from '@app/cache';
import { PostgresInvalidationChannel, type ListenClient, type ListenConnection } from './postgres-invalidation-channel';

/** A node-postgres client stand-in: records queries, answers them when told, delivers NOTIFYs between clients. */
class FakeClient extends EventEmitter implements ListenClient {
  readonly queries: Array<{ text: string; values?: unknown[]; answer: () => void; fail: (e: Error) => void }> = [];
  autoAnswer = true;
  released?: Error | boolean;

  constructor(private readonly hub: FakeClient[]) {
    super();
    hub.push(this);
  }

  query(text: string, values?: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const answer = () => {
        if (text.startsWith('SELECT pg_notify')) {
          for (const client of this.hub)
            client.emit('notification', { channel: values![0], payload: values![1] as string });
        }
        resolve({});
      };
      this.queries.push({ text, values, answer, fail: reject });
      if (this.autoAnswer) answer();
    });
  }
}

function channelOn(hub: FakeClient[], options: { timeoutMs?: number; reconnectDelayMs?: number } = {}) {
  const clients: FakeClient[] = [];
  const channel = new PostgresInvalidationChannel({
    ...options,
    connect: (): Promise<ListenConnection> => {
      const client = new FakeClient(hub);
      clients.push(client);
      return Promise.resolve({ client, release: (error) => (client.released = error ?? false) });
    },
  });
  const received: ChannelInvalidation[] = [];
  let resumed = 0;
  const start = () => channel.start({ name: 'bp:bus', message: (m) => received.push(m), resumed: () => resumed++ });
  return { channel, clients, received, resumed: () => resumed, start };
}

describe(PostgresInvalidationChannel.name, () => {
  it('listens on the quoted channel name and delivers other instances’ messages, not its own', async () => {
    const hub: FakeClient[] = [];
    const a = channelOn(hub);
    const b = channelOn(hub);
    await a.start();
    await b.start();
    expect(a.clients[0].queries[0].text).toBe('LISTEN "bp:bus"');
    await a.channel.publish({ keys: ['bp:c:x:1'], tags: ['t1'] });
    expect(b.received).toEqual([{ keys: ['bp:c:x:1'], tags: ['t1'] }]);
    expect(a.received).toEqual([]);
    await a.channel.stop();
    await b.channel.stop();
  });

  it('splits a large invalidation into NOTIFY payloads under 8000 bytes, and a huge one into "drop all"', async () => {
    const hub: FakeClient[] = [];
    const a = channelOn(hub);
    const b = channelOn(hub);
    await a.start();
    await b.start();
    const keys = Array.from({ length: 300 }, (_, i) => `bp:c:query:${'k'.repeat(40)}${i}`);
    await a.channel.publish({ keys, tags: [] });
    const payloads = a.clients[0].queries.filter((q) => q.text.startsWith('SELECT pg_notify'));
    expect(payloads.length).toBeGreaterThan(1);
    for (const q of payloads) expect(Buffer.byteLength(q.values![1] as string)).toBeLessThan(8000);
    expect(b.received.flatMap((m) => m.keys)).toEqual(keys);

    b.received.length = 0;
    await a.channel.publish({ keys: Array.from({ length: 20_000 }, (_, i) => `bp:c:q:${i}`), tags: [] });
    expect(b.received).toEqual([{ keys: [], tags: [], all: true }]);
    b.received.length = 0;
    await a.channel.publish({ keys: ['x'.repeat(9000)], tags: [] });
    expect(b.received).toEqual([{ keys: [], tags: [], all: true }]);
    await a.channel.stop();
    await b.channel.stop();
  });

  it('merges invalidations published while a NOTIFY is on the wire into one, sent when it is answered', async () => {
    const hub: FakeClient[] = [];
    const a = channelOn(hub);
    const b = channelOn(hub);
    await a.start();
    await b.start();
    const client = a.clients[0];
    client.autoAnswer = false;
    const notifies = () => client.queries.filter((q) => q.text.startsWith('SELECT pg_notify'));
    const first = a.channel.publish({ keys: ['k1'], tags: [] });
    await new Promise((r) => setImmediate(r));
    expect(notifies()).toHaveLength(1);
    const later = [
      a.channel.publish({ keys: ['k2'], tags: ['t'] }),
      a.channel.publish({ keys: ['k2', 'k3'], tags: [] }),
    ];
    notifies()[0].answer();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(notifies()).toHaveLength(2);
    notifies()[1].answer();
    await Promise.all(later);
    expect(b.received).toEqual([
      { keys: ['k1'], tags: [] },
      { keys: ['k2', 'k3'], tags: ['t'] },
    ]);
    await a.channel.stop();
    await b.channel.stop();
  });

  it('carries the ids of the invalidations it merged, in every chunk, and none when one of them had no id', async () => {
    const hub: FakeClient[] = [];
    const a = channelOn(hub);
    const b = channelOn(hub);
    await a.start();
    await b.start();
    const client = a.clients[0];
    client.autoAnswer = false;
    const notifies = () => client.queries.filter((q) => q.text.startsWith('SELECT pg_notify'));
    const first = a.channel.publish({ keys: ['k0'], tags: [], ids: ['i0'] });
    await new Promise((r) => setImmediate(r));
    const merged = [
      a.channel.publish({ keys: ['k1'], tags: [], ids: ['i1'] }),
      a.channel.publish({ keys: [], tags: ['t'], ids: ['i2'] }),
    ];
    notifies()[0].answer();
    await first;
    await new Promise((r) => setImmediate(r));
    notifies()[1].answer();
    await Promise.all(merged);
    expect(b.received).toEqual([
      { keys: ['k0'], tags: [], ids: ['i0'] },
      { keys: ['k1'], tags: ['t'], ids: ['i1', 'i2'] },
    ]);

    client.autoAnswer = true;
    b.received.length = 0;
    const keys = Array.from({ length: 300 }, (_, i) => `bp:c:query:${'k'.repeat(40)}${i}`);
    await a.channel.publish({ keys, tags: [], ids: ['big'] });
    expect(b.received.length).toBeGreaterThan(1);
    for (const m of b.received) expect(m.ids).toEqual(['big']);
    for (const q of notifies()) expect(Buffer.byteLength(q.values![1] as string)).toBeLessThan(8000);

    client.autoAnswer = false;
    b.received.length = 0;
    const before = notifies().length;
    const blocking = a.channel.publish({ keys: ['x'], tags: [], ids: ['x'] });
    await new Promise((r) => setImmediate(r));
    const mixed = [
      a.channel.publish({ keys: ['y'], tags: [], ids: ['y'] }),
      a.channel.publish({ keys: ['z'], tags: [] }),
    ];
    notifies()[before].answer();
    await blocking;
    await new Promise((r) => setImmediate(r));
    notifies()[before + 1].answer();
    await Promise.all(mixed);
    expect(b.received[1]).toEqual({ keys: ['y', 'z'], tags: [] });
    await a.channel.stop();
    await b.channel.stop();
  });

  it('ignores malformed payloads and non-string entries', async () => {
    const hub: FakeClient[] = [];
    const b = channelOn(hub);
    await b.start();
    b.clients[0].emit('notification', { channel: 'bp:bus', payload: 'not json' });
    b.clients[0].emit('notification', { channel: 'bp:bus', payload: JSON.stringify({ o: 'x', k: [1, 'a'], t: 'no' }) });
    b.clients[0].emit('notification', { channel: 'other', payload: JSON.stringify({ o: 'x', k: ['b'] }) });
    expect(b.received).toEqual([{ keys: ['a'], tags: [] }]);
    await b.channel.stop();
  });

  it('shares one barrier round trip among concurrent callers, but never one already on the wire', async () => {
    const hub: FakeClient[] = [];
    const b = channelOn(hub);
    await b.start();
    const client = b.clients[0];
    client.autoAnswer = false;
    const selects = () => client.queries.filter((q) => q.text === 'SELECT 1');
    let firstDone = false;
    const first = b.channel.barrier().then(() => (firstDone = true));
    // These arrive while the first SELECT 1 is on the wire: it may predate their reads.
    let laterDone = 0;
    const later = [b.channel.barrier(), b.channel.barrier()].map((p) => p.then(() => laterDone++));
    expect(selects()).toHaveLength(1);
    selects()[0].answer();
    await first;
    expect(firstDone).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(laterDone).toBe(0);
    expect(selects()).toHaveLength(2); // one round trip for both later callers
    selects()[1].answer();
    await Promise.all(later);
    expect(laterDone).toBe(2);
    await b.channel.stop();
  });

  it('rejects a barrier while not connected, and reconnects after a missed deadline (barrier or NOTIFY), telling the cache', async () => {
    const hub: FakeClient[] = [];
    const b = channelOn(hub, { timeoutMs: 20, reconnectDelayMs: 10 });
    await expect(b.channel.barrier()).rejects.toThrow('not connected');
    await b.start();
    b.clients[0].autoAnswer = false;
    await expect(b.channel.barrier()).rejects.toThrow('deadline');
    expect(b.channel.listening).toBe(false);
    expect(b.clients[0].released).toBeInstanceOf(Error); // destroyed, never back in the pool
    await expect(b.channel.publish({ keys: ['k'], tags: [] })).rejects.toThrow('not connected');
    for (let i = 0; i < 50 && !b.channel.listening; i++) await new Promise((r) => setTimeout(r, 10));
    expect(b.channel.listening).toBe(true);
    expect(b.resumed()).toBe(1);
    await expect(b.channel.barrier()).resolves.toBeUndefined();
    // A hung Postgres cannot hold a write's response either.
    b.clients[1].autoAnswer = false;
    await expect(b.channel.publish({ keys: ['k'], tags: [] })).rejects.toThrow('NOTIFY missed its 20 ms deadline');
    expect(b.channel.listening).toBe(false);
    await b.channel.stop();
  });

  it('reconnects after a connection error and keeps retrying while connecting fails', async () => {
    const hub: FakeClient[] = [];
    let refuse = 2;
    const received: ChannelInvalidation[] = [];
    let resumed = 0;
    const clients: FakeClient[] = [];
    const channel = new PostgresInvalidationChannel({
      reconnectDelayMs: 5,
      connect: (): Promise<ListenConnection> => {
        if (clients.length > 0 && refuse-- > 0) return Promise.reject(new Error('ECONNREFUSED'));
        const client = new FakeClient(hub);
        clients.push(client);
        return Promise.resolve({ client, release: (error) => (client.released = error ?? false) });
      },
    });
    await channel.start({ name: 'bp:bus', message: (m) => received.push(m), resumed: () => resumed++ });
    clients[0].emit('error', new Error('ECONNRESET'));
    expect(channel.listening).toBe(false);
    for (let i = 0; i < 100 && !channel.listening; i++) await new Promise((r) => setTimeout(r, 10));
    expect(channel.listening).toBe(true);
    expect(clients).toHaveLength(2);
    expect(resumed).toBe(1);
    await channel.stop();
    expect(clients[1].released).toBe(true);
  });
});
