import { describeCluster, mergeClusterInfo } from './cluster-client';

describe(mergeClusterInfo.name, () => {
  it("sums counts and sizes over the masters, keeps the first master's other fields, and counts the masters", () => {
    const merged = mergeClusterInfo([
      {
        redis_version: '7.0.15',
        used_memory: '1048576',
        used_memory_human: '1.00M',
        keyspace_hits: '10',
        db0: 'keys=3,expires=3,avg_ttl=5',
      },
      {
        redis_version: '7.0.15',
        used_memory: '2097152',
        used_memory_human: '2.00M',
        keyspace_hits: '5',
        db0: 'keys=4,expires=4,avg_ttl=9',
      },
      { redis_version: '7.0.15', used_memory: '0', keyspace_hits: 'x' },
    ]);
    expect(merged).toEqual({
      redis_version: '7.0.15',
      used_memory: '3145728',
      used_memory_human: '3.00M',
      keyspace_hits: '15',
      db0: 'keys=7',
      cluster_masters: '3',
    });
  });
});

describe(describeCluster.name, () => {
  it('names the nodes, never a password', () => {
    expect(
      describeCluster({
        nodes: [
          { host: 'a', port: 1 },
          { host: '::1', port: 2 },
        ],
      }),
    ).toBe('cluster via a:1,[::1]:2');
  });
});
