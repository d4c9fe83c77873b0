/** What one batched read gets back: its key's raw value and its tags' markers, in the order of its tags. */
export interface MarkerReply {
  raw: string | null;
  marks: ReadonlyArray<string | null>;
  /** Estimated server time when the batch's `MGET` was sent (it ran later). */
  sentAt: number;
}

/** Where a batch goes: one `MGET` command, answered in key order. */
export type MgetSender = (command: string[]) => Promise<Array<string | null>>;

interface QueuedRead {
  key: string;
  tags: readonly string[];
  resolve: (reply: MarkerReply) => void;
  reject: (error: unknown) => void;
}

/** Keys (entries and markers) in one `MGET` at most: a reply of ~256 kilobyte entries keeps Redis's loop short. */
export const MAX_BATCH_KEYS = 256;

/**
 * Auto-batching of L2 reads: the reads requested during one turn of the
 * event loop (every promise continuation that runs before the next I/O)
 * share one `MGET` of their keys and of the union of their tags' markers.
 *
 * With many calls in flight, a Redis reply wakes many callers at once; each
 * one's next read would be its own command (queued, encoded, parsed and
 * settled by the client one by one, and executed by Redis one by one). Here
 * they become one command. Every read still sees its entry and its markers
 * as of one atomic moment (an `MGET` is atomic), so the invalidation check
 * it makes is the one a lone `MGET` would allow; a marker shared by several
 * reads is read once. With one call in flight a batch holds one read: the
 * same command as without batching, after a `process.nextTick`.
 */
export class MarkerReadBatch {
  private queue: QueuedRead[] = [];
  private scheduled = false;

  /**
   * @param send sends one `MGET` (under the caller's deadline)
   * @param tagPrefix the prefix that turns a tag into its marker's key
   * @param sentAt the estimated server time, read when a batch is sent
   */
  constructor(
    private readonly send: MgetSender,
    private readonly tagPrefix: string,
    private readonly sentAt: () => number,
    private readonly maxKeys = MAX_BATCH_KEYS,
  ) {}

  /** Queues a read of `key` and the markers of `tags`; it is sent at the end of this turn. */
  read(key: string, tags: readonly string[]): Promise<MarkerReply> {
    return new Promise<MarkerReply>((resolve, reject) => {
      this.queue.push({ key, tags, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // After the microtasks of this turn (the callers woken with this one), before any I/O.
        process.nextTick(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    let from = 0;
    while (from < queue.length) {
      // At least one read per command, however many tags it has.
      let to = from + 1;
      let keys = 1 + queue[from].tags.length;
      while (to < queue.length && keys + 1 + queue[to].tags.length <= this.maxKeys) {
        keys += 1 + queue[to].tags.length;
        to++;
      }
      this.sendBatch(from === 0 && to === queue.length ? queue : queue.slice(from, to));
      from = to;
    }
  };

  private sendBatch(reads: readonly QueuedRead[]): void {
    const sentAt = this.sentAt();
    const command = ['MGET'];
    for (const read of reads) command.push(read.key);
    // Each tag's marker once, at its position in the reply.
    const markerAt = new Map<string, number>();
    for (const read of reads) {
      for (const tag of read.tags) {
        if (markerAt.has(tag)) continue;
        markerAt.set(tag, command.length - 1);
        command.push(this.tagPrefix + tag);
      }
    }
    let sent: Promise<Array<string | null>>;
    try {
      sent = this.send(command);
    } catch (error) {
      sent = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    sent.then(
      (reply) => {
        for (let i = 0; i < reads.length; i++) {
          const { tags, resolve } = reads[i];
          const marks = new Array<string | null>(tags.length);
          for (let t = 0; t < tags.length; t++) marks[t] = reply[markerAt.get(tags[t])!] ?? null;
          resolve({ raw: reply[i] ?? null, marks, sentAt });
        }
      },
      (error: unknown) => {
        for (const read of reads) read.reject(error);
      },
    );
  }
}
