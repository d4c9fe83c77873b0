import { TurnBatch } from './turn-batch';

describe(TurnBatch.name, () => {
  it('runs the work of one turn together, after the I/O callbacks of that turn, in order', async () => {
    const batch = new TurnBatch();
    const order: string[] = [];
    const a = batch.run(() => (order.push('a'), 1));
    const b = batch.run(() => (order.push('b'), 2));
    order.push('sync');
    expect(await Promise.all([a, b])).toEqual([1, 2]);
    expect(order).toEqual(['sync', 'a', 'b']);
    // A later turn gets its own flush.
    expect(await batch.run(() => 3)).toBe(3);
  });

  it('rejects only the work that threw', async () => {
    const batch = new TurnBatch();
    const failing = batch.run(() => {
      throw new Error('boom');
    });
    const fine = batch.run(() => 'ok');
    await expect(failing).rejects.toThrow('boom');
    expect(await fine).toBe('ok');
  });
});
