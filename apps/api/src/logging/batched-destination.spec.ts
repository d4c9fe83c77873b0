import { BatchedDestination } from './batched-destination';

describe(BatchedDestination.name, () => {
  const sink = () => {
    const writes: string[] = [];
    return { writes, sink: { write: (chunk: string) => writes.push(chunk) } };
  };

  it('writes lines in one batch after the delay', () => {
    jest.useFakeTimers();
    try {
      const { writes, sink: s } = sink();
      const destination = new BatchedDestination({ sink: s, maxDelayMs: 50 });
      destination.write('a\n');
      destination.write('b\n');
      expect(writes).toEqual([]);
      jest.advanceTimersByTime(50);
      expect(writes).toEqual(['a\nb\n']);
      destination.close();
    } finally {
      jest.useRealTimers();
    }
  });

  it('writes at once when a batch is full, and flushes what is left on close', () => {
    const { writes, sink: s } = sink();
    const destination = new BatchedDestination({ sink: s, maxBatch: 4, maxDelayMs: 60_000 });
    destination.write('ab\n');
    destination.write('cd\n');
    expect(writes).toEqual(['ab\ncd\n']);
    destination.write('e\n');
    destination.close();
    expect(writes).toEqual(['ab\ncd\n', 'e\n']);
    destination.write('late\n');
    expect(writes).toEqual(['ab\ncd\n', 'e\n', 'late\n']);
  });
});
