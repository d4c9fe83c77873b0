import { InvalidationQueue } from './invalidation-queue';
import { KeyLayout, namespaceTag } from './keys';

const layout = new KeyLayout('bp');
const key = (namespace: string, k: string) => layout.entry(namespace, k);

describe(InvalidationQueue.name, () => {
  it('starts empty and drains to nothing', () => {
    const queue = new InvalidationQueue('bp');
    expect(queue.size).toBe(0);
    expect(queue.drain()).toEqual({ keys: [], tags: [] });
  });

  it('drains keys and tags in the order first queued, each once', () => {
    const queue = new InvalidationQueue('bp');
    queue.add([key('a', '1'), key('b', '2')], ['t1']);
    queue.add([key('a', '1'), key('c', '3')], ['t2', 't1']);
    expect(queue.size).toBe(5);
    expect(queue.drain()).toEqual({ keys: [key('a', '1'), key('b', '2'), key('c', '3')], tags: ['t1', 't2'] });
  });

  it('is empty after a drain, and what is added after the drain is not mixed into the drained batch', () => {
    const queue = new InvalidationQueue('bp');
    queue.add([key('a', '1')], ['t1']);
    const drained = queue.drain();
    expect(queue.size).toBe(0);
    queue.add([key('a', '2')], []);
    expect(drained).toEqual({ keys: [key('a', '1')], tags: ['t1'] });
    expect(queue.drain()).toEqual({ keys: [key('a', '2')], tags: [] });
  });

  it('keeps a failed replay: re-adding the drained batch merges it with what came meanwhile, without duplicates', () => {
    const queue = new InvalidationQueue('bp');
    queue.add([key('a', '1'), key('a', '2')], ['t1']);
    const batch = queue.drain();
    queue.add([key('a', '2'), key('a', '3')], ['t1', 't2']); // during the replay
    queue.add(batch.keys, batch.tags); // the replay failed
    const again = queue.drain();
    expect(again.keys.sort()).toEqual([key('a', '1'), key('a', '2'), key('a', '3')]);
    expect(again.tags.sort()).toEqual(['t1', 't2']);
  });

  it('holds up to maxKeys keys as they are', () => {
    const queue = new InvalidationQueue('bp', 3);
    queue.add([key('a', '1'), key('a', '2'), key('b', '3')], []);
    expect(queue.drain()).toEqual({ keys: [key('a', '1'), key('a', '2'), key('b', '3')], tags: [] });
  });

  it("past maxKeys, replaces the keys by their namespaces' tags: more is invalidated, never less", () => {
    const queue = new InvalidationQueue('bp', 3);
    queue.add([key('a', '1'), key('a', '2')], ['user:7']);
    queue.add([key('b', '1'), key('c', 'x:y')], []);
    expect(queue.size).toBe(4); // user:7 + three namespace tags
    const drained = queue.drain();
    expect(drained.keys).toEqual([]);
    expect(drained.tags.sort()).toEqual(['user:7', namespaceTag('a'), namespaceTag('b'), namespaceTag('c')].sort());
  });

  it('defaults to a 10,000-key bound', () => {
    const queue = new InvalidationQueue('bp');
    const keys = Array.from({ length: 10_000 }, (_, i) => key(`n${i % 2}`, String(i)));
    queue.add(keys, []);
    expect(queue.size).toBe(10_000);
    queue.add([key('n2', 'one-more')], []);
    expect(queue.drain()).toEqual({ keys: [], tags: [namespaceTag('n0'), namespaceTag('n1'), namespaceTag('n2')] });
  });

  it('queues keys again after a collapse, up to the bound', () => {
    const queue = new InvalidationQueue('bp', 2);
    queue.add([key('a', '1'), key('a', '2'), key('a', '3')], []);
    queue.add([key('b', '1')], []);
    expect(queue.drain()).toEqual({ keys: [key('b', '1')], tags: [namespaceTag('a')] });
  });

  it('reads the namespace under its own prefix only', () => {
    const queue = new InvalidationQueue('app-x', 1);
    const own = new KeyLayout('app-x');
    queue.add([own.entry('users', '1'), own.entry('orders', '2')], []);
    expect(queue.drain().tags.sort()).toEqual([namespaceTag('orders'), namespaceTag('users')]);
  });
});
