/**
 * Publications: what `publishData` sends, and a bounded stream of them.
 *
 * @module
 */

/**
 * One call (or, under pressure, several merged calls) of `publishData`.
 *
 * @example
 * ```ts
 * import { Client, type Publication, publishData } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 1 });
 * const ar = client.view().applyAsync(() => publishData({ i: 0 }));
 * await ar;
 * const p: Publication | undefined = client.registry.latest(0);
 * console.log(p?.engineId, p?.seq, p?.data); // 0 1 { i: 0 }
 * ```
 */
export interface Publication {
  /** The engine that published. */
  engineId: number;
  /** The task that was running when it published. */
  taskId: number;
  /** Per engine, increasing; a gap means publications were merged. */
  seq: number;
  /** Engine clock at publishing, ms since the epoch. */
  time: number;
  /** The keys this publication sets. */
  data: Record<string, unknown>;
}

/**
 * How many publications a slow reader may fall behind before the unread
 * ones merge. Merging keeps the newest value of every key and the order.
 */
const STREAM_BUFFER = 1024;

/**
 * An `AsyncIterable<Publication>` fed by a producer that never waits. A reader
 * that falls behind costs bounded memory: past `STREAM_BUFFER` unread items, a
 * new publication merges key by key into the newest unread one of the same
 * engine and task, so each engine's order is kept and the newest value of
 * every key survives. `end()` lets readers drain what is buffered, then stop.
 *
 * @example
 * ```ts
 * import { PublicationStream } from "./publication.ts";
 * const s = new PublicationStream();
 * s.push({ engineId: 0, taskId: 1, seq: 1, time: 0, data: { i: 1 } });
 * s.end();
 * for await (const p of s) console.log(p.data.i);
 * ```
 */
export class PublicationStream implements AsyncIterable<Publication> {
  #buffer: Publication[] = [];
  #waiting?: PromiseWithResolvers<void>;
  #ended = false;
  #onClose?: () => void;

  /** `onClose` runs once when the reader stops or the stream ends. */
  constructor(onClose?: () => void) {
    this.#onClose = onClose;
  }

  /** Adds a publication; never blocks. Ignored after `end()`. */
  push(publication: Publication): void {
    if (this.#ended) return;
    const buffer = this.#buffer;
    if (buffer.length >= STREAM_BUFFER) {
      const i = buffer.findLastIndex((p) =>
        p.engineId === publication.engineId && p.taskId === publication.taskId
      );
      if (i >= 0) {
        buffer[i] = mergePublications(buffer[i], publication);
        return;
      }
    }
    buffer.push(publication);
    this.#waiting?.resolve();
  }

  /** No more publications will come; readers finish what is buffered. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#waiting?.resolve();
    this.#close();
  }

  /**
   * The publications in the order they were pushed, waiting for more until
   * `end()`. One reader per stream: each publication is taken once, and
   * stopping early (`break`) ends the stream and runs its `onClose`.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Publication> {
    try {
      while (true) {
        if (this.#buffer.length > 0) {
          const batch = this.#buffer;
          this.#buffer = [];
          yield* batch;
          continue;
        }
        if (this.#ended) return;
        this.#waiting = Promise.withResolvers<void>();
        await this.#waiting.promise;
        this.#waiting = undefined;
      }
    } finally {
      this.#ended = true;
      this.#close();
    }
  }

  #close(): void {
    const onClose = this.#onClose;
    this.#onClose = undefined;
    onClose?.();
  }
}

/**
 * `b` applied on top of `a`: the later publication's identity, both
 * publications' keys, `b`'s value where both name a key.
 *
 * @example
 * ```ts
 * import { mergePublications } from "./publication.ts";
 * const m = mergePublications(
 *   { engineId: 0, taskId: 1, seq: 1, time: 0, data: { a: 1, i: 0 } },
 *   { engineId: 0, taskId: 1, seq: 2, time: 1, data: { i: 1 } },
 * );
 * console.log(m.data); // { a: 1, i: 1 }
 * ```
 */
export function mergePublications(a: Publication, b: Publication): Publication {
  // Fresh data: `a.data` may be shared with other readers of `a`.
  return { ...b, data: mergeData(mergeData({}, a.data), b.data) };
}

/**
 * Later keys win: `later`'s keys set on `into`, which keeps its other keys
 * (ipyparallel's `dict.update`). Every merge of published data goes through
 * here: `ar.data`, the engine's publications merged under pressure, a slow
 * reader's stream and the dashboard. `into` is changed, so that an object
 * that was handed out (`ar.data`) stays live; returns it.
 *
 * @example
 * ```ts
 * import { mergeData } from "./publication.ts";
 * const data: Record<string, unknown> = { a: 1, i: 0 };
 * mergeData(data, { i: 1 });
 * console.log(data); // { a: 1, i: 1 }
 * ```
 */
export function mergeData(
  into: Record<string, unknown>,
  later: Record<string, unknown>,
): Record<string, unknown> {
  return Object.assign(into, later);
}
