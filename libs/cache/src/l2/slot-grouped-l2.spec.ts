import { sendScript, type RedisConnection, type RedisCommander, type RedisScript } from '@app/redis';
import { KeyLayout } from '../keys';
import { SlotGroupedL2 } from './slot-grouped-l2';

/** A connection whose client records every raw command and answers with Redis's clock. */
function recordingRedis(now: (args: string[]) => number = () => 1_000_000) {
  const commands: string[][] = [];
  const client = {
    sendCommand: (args: string[]) => {
      commands.push(args);
      return Promise.resolve(now(args));
    },
  };
  const redis = {
    run: <T>(operation: (c: unknown) => Promise<T>) => operation(client),
    command: (args: string[]) => client.sendCommand(args),
    script: (script: RedisScript, keys: string[], args: string[]) =>
      sendScript(client as unknown as RedisCommander, script, keys, args),
  } as unknown as RedisConnection;
  return { redis, commands };
}

/** The keys of an EVALSHA command (`EVALSHA sha numkeys key… arg…`). */
const keysOf = (command: string[]) => command.slice(3, 3 + Number(command[2]));

describe(SlotGroupedL2.name, () => {
  const layout = new KeyLayout('bp', 16);

  it('stamps a tag’s marker in every slot group, each script on its own group’s keys', async () => {
    const { redis, commands } = recordingRedis();
    await new SlotGroupedL2(redis, layout, 60_000, 1_000).invalidateTags(['q.row:User:1', 'ns.users']);
    expect(commands).toHaveLength(16);
    const prefixes = commands.map((command) => {
      const keys = keysOf(command);
      const prefix = keys[0].slice(0, keys[0].length - 'q.row:User:1'.length);
      expect(keys).toEqual([`${prefix}q.row:User:1`, `${prefix}ns.users`]);
      return prefix;
    });
    expect(new Set(prefixes)).toEqual(new Set(layout.markerPrefixes));
  });

  it('deletes once per slot group touched, never mixing groups in one script', async () => {
    const { redis, commands } = recordingRedis();
    const keys = Array.from({ length: 40 }, (_, i) => layout.entry('users', String(i)));
    await new SlotGroupedL2(redis, layout, 60_000, 1_000).delete(keys);
    const groups = new Set(keys.map((key) => layout.markerPrefixOf(key)));
    expect(commands).toHaveLength(groups.size);
    for (const command of commands) {
      expect(new Set(keysOf(command).map((key) => layout.markerPrefixOf(key))).size).toBe(1);
    }
    expect(commands.flatMap(keysOf).sort()).toEqual([...keys].sort());
  });

  it('refuses a key without a slot group’s hash tag, naming it', async () => {
    const { redis, commands } = recordingRedis();
    const l2 = new SlotGroupedL2(redis, layout, 60_000, 1_000);
    await expect(l2.get('bp:c:users:42')).rejects.toThrow('bp:c:users:42 is not an entry key of a slot group');
    expect(commands).toEqual([]);
  });

  it('knows the server time only once every group has seen its master’s clock, and gives the earliest', async () => {
    // Each group's master a second ahead of the previous group's: group 0 is the earliest.
    const groupOf = (args: string[]) => layout.markerPrefixes.indexOf(layout.markerPrefixOf(args[3]));
    const { redis } = recordingRedis((args) => 5_000 + 1_000 * groupOf(args));
    const l2 = new SlotGroupedL2(redis, layout, 60_000, 1_000);
    // One key per group: a write's reply carries its master's time.
    const byGroup = new Map<string, string>();
    for (let i = 0; byGroup.size < 16; i++) {
      const key = layout.entry('a', String(i));
      byGroup.set(layout.markerPrefixOf(key), key);
    }
    const write = (key: string) =>
      l2.set({ key, ttlMs: 1_000, graceMs: 0, schema: '1', tags: [], payload: '1', notBefore: 0 });
    const [first, ...others] = [...byGroup.values()].reverse();
    expect(l2.serverNow()).toBeUndefined();
    await write(first);
    expect(l2.serverNow()).toBeUndefined();
    for (const key of others) await write(key);
    const now = l2.serverNow()!;
    expect(now).toBeGreaterThanOrEqual(5_000);
    expect(now).toBeLessThan(5_500);
  });
});
