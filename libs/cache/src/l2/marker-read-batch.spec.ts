import { MarkerReadBatch, type MgetSender } from './marker-read-batch';

/** A fake Redis: a key → value map answering MGET, recording every command. */
function fakeRedis(values: Record<string, string>) {
  const commands: string[][] = [];
  const send: MgetSender = (command) => {
    commands.push(command);
    return Promise.resolve(command.slice(1).map((key) => values[key] ?? null));
  };
  return { commands, send };
}

describe(MarkerReadBatch.name, () => {
  it('sends the reads of one turn as one MGET, each marker once, and answers each read with its own slice', async () => {
    const redis = fakeRedis({ a: 'A', b: 'B', 'm:t1': '10', 'm:t2': '20' });
    const batch = new MarkerReadBatch(redis.send, 'm:', () => 1000);

    const [a, b, c] = await Promise.all([
      batch.read('a', ['t1', 't2']),
      batch.read('b', ['t2']),
      batch.read('c', ['t3', 't1']),
    ]);

    expect(redis.commands).toEqual([['MGET', 'a', 'b', 'c', 'm:t1', 'm:t2', 'm:t3']]);
    expect(a).toEqual({ raw: 'A', marks: ['10', '20'], sentAt: 1000 });
    expect(b).toEqual({ raw: 'B', marks: ['20'], sentAt: 1000 });
    expect(c).toEqual({ raw: null, marks: [null, '10'], sentAt: 1000 });
  });

  it('collects the reads started by promise continuations of the same turn', async () => {
    const redis = fakeRedis({ a: 'A', b: 'B' });
    const batch = new MarkerReadBatch(redis.send, 'm:', () => 0);

    // Callers woken one after another by earlier awaits (as by one Redis reply carrying many answers).
    const later = async (key: string, hops: number) => {
      for (let i = 0; i < hops; i++) await Promise.resolve();
      return batch.read(key, []);
    };
    await Promise.all([later('a', 0), later('b', 5)]);

    expect(redis.commands).toEqual([['MGET', 'a', 'b']]);
  });

  it('sends a read of a later turn in a command of its own', async () => {
    const redis = fakeRedis({ a: 'A' });
    const batch = new MarkerReadBatch(redis.send, 'm:', () => 0);

    await batch.read('a', ['t']);
    await batch.read('a', ['t']);

    expect(redis.commands).toEqual([
      ['MGET', 'a', 'm:t'],
      ['MGET', 'a', 'm:t'],
    ]);
  });

  it('splits a turn into commands of at most maxKeys keys, a read with more tags than that alone', async () => {
    const redis = fakeRedis({});
    const batch = new MarkerReadBatch(redis.send, 'm:', () => 0, 4);

    await Promise.all([
      batch.read('a', ['t1']),
      batch.read('b', ['t2']),
      batch.read('c', ['t1', 't2', 't3', 't4', 't5']),
      batch.read('d', []),
    ]);

    expect(redis.commands).toEqual([
      ['MGET', 'a', 'b', 'm:t1', 'm:t2'],
      ['MGET', 'c', 'm:t1', 'm:t2', 'm:t3', 'm:t4', 'm:t5'],
      ['MGET', 'd'],
    ]);
  });

  it('rejects every read of a failed command with its error, and keeps working after', async () => {
    const failure = new Error('Redis command did not answer within 500 ms');
    let fail = true;
    const batch = new MarkerReadBatch(
      (command) => (fail ? Promise.reject(failure) : Promise.resolve(command.slice(1).map(() => null))),
      'm:',
      () => 0,
    );

    const reads = [batch.read('a', ['t']), batch.read('b', [])];
    await expect(reads[0]).rejects.toBe(failure);
    await expect(reads[1]).rejects.toBe(failure);

    fail = false;
    await expect(batch.read('a', [])).resolves.toEqual({ raw: null, marks: [], sentAt: 0 });
  });

  it('turns a sender that throws into rejections, not an exception in the tick', async () => {
    const failure = new Error('client closed');
    const batch = new MarkerReadBatch(
      () => {
        throw failure;
      },
      'm:',
      () => 0,
    );

    await expect(batch.read('a', [])).rejects.toBe(failure);
  });

  it('reads the server time when the command is sent, not when the first read was queued', async () => {
    let clock = 100;
    const redis = fakeRedis({});
    const batch = new MarkerReadBatch(redis.send, 'm:', () => clock);

    const read = batch.read('a', []);
    clock = 105;

    await expect(read).resolves.toMatchObject({ sentAt: 105 });
  });
});
