/**
 * The registry actor: the client's record of what engines publish.
 *
 * @module
 */

import { Actor } from "../actors/actor.ts";
import {
  type Publication,
  PublicationStream,
} from "../protocol/publication.ts";

/** Receives the publications of one task, in order. */
export interface PublicationSink {
  /** Called once per publication of the watched task. */
  publish(publication: Publication): void;
}

/**
 * Where the registry finds the sinks of tasks that it was not told to
 * watch: the cluster's route table, which knows every live task already,
 * so that routing a task's publications costs no message and no second
 * table of its own.
 *
 * @example
 * ```ts
 * import type { SinkTable } from "./registry.ts";
 * const none: SinkTable = { sinkOf: () => undefined, watching: 0 };
 * ```
 */
export interface SinkTable {
  /** The sink of task `taskId`'s publications, while it has one. */
  sinkOf(taskId: number): PublicationSink | undefined;
  /** How many tasks it has a sink for. */
  readonly watching: number;
}

/**
 * The registry as users read it (`client.registry`).
 *
 * @example
 * ```ts
 * import {
 *   Client,
 *   engineId,
 *   type PublicationRegistry,
 *   publishData,
 * } from "@troupe/parallel";
 * await using client = await Client.start({ workers: 2 });
 * await client.view().applyAsync(() => publishData({ from: engineId }));
 * const registry: PublicationRegistry = client.registry;
 * console.log(registry.latest(1)?.data); // { from: 1 }
 * console.log(registry.snapshot().size); // 2
 * // Every publication from now on; the loop ends when the client closes.
 * async function watch() {
 *   for await (const p of registry.updates()) console.log(p.engineId, p.data);
 * }
 * ```
 */
export interface PublicationRegistry {
  /** The newest publication of `engineId`, as the engine sent it. */
  latest(engineId: number): Publication | undefined;
  /** The newest publication of every engine that has published. */
  snapshot(): Map<number, Publication>;
  /**
   * Every publication from now on, from every engine, as it arrives; ends
   * when the client closes, or when `signal` aborts. A reader that falls
   * behind costs bounded memory: unread publications of one task merge.
   */
  updates(options?: { signal?: AbortSignal }): AsyncIterable<Publication>;
}

/** What the registry handles. */
export type RegistryMessage =
  | { kind: "publish"; publication: Publication }
  | { kind: "watch"; taskId: number; sink: PublicationSink }
  | { kind: "unwatch"; taskId: number }
  /** Engines the cluster no longer keeps (an idle pool's old stopped ones). */
  | { kind: "forget"; engineIds: number[] }
  | { kind: "close" };

/**
 * Keeps the latest publication of each engine, routes each publication to
 * the result that watches its task, and feeds live `updates()` streams.
 * Reads (`latest`, `snapshot`) are synchronous: JavaScript runs one thing at a
 * time, so a read always sees a state between two messages.
 *
 * @example
 * ```ts
 * import { Registry } from "./registry.ts";
 * const registry = new Registry();
 * registry.tell({
 *   kind: "publish",
 *   publication: { engineId: 0, taskId: 1, seq: 1, time: Date.now(), data: { i: 0 } },
 * });
 * console.log(registry.latest(0)?.data); // { i: 0 }
 * ```
 */
export class Registry extends Actor<RegistryMessage>
  implements PublicationRegistry {
  #latest = new Map<number, Publication>();
  #sinks = new Map<number, PublicationSink>();
  #table: SinkTable | undefined;
  #streams = new Set<PublicationStream>();
  #closed = false;

  /** The newest publication of `engineId`, as the engine sent it. */
  latest(engineId: number): Publication | undefined {
    return this.#latest.get(engineId);
  }

  /**
   * How many tasks have their publications routed now: one per task that
   * has not ended, so that a million finished tasks leave nothing behind.
   */
  get watched(): number {
    return this.#sinks.size + (this.#table?.watching ?? 0);
  }

  /**
   * Routes the publications of every task that `table` has a sink for to
   * that sink, besides those it is told to `watch` (one table at most).
   */
  lookIn(table: SinkTable): void {
    if (this.#table && this.#table !== table) {
      throw new Error("the registry already looks in another sink table");
    }
    this.#table = table;
  }

  /** The newest publication of every engine that has published. */
  snapshot(): Map<number, Publication> {
    return new Map(this.#latest);
  }

  /**
   * Every publication from now on, from every engine, as it arrives. Ends
   * when the client closes or `signal` aborts. A reader that falls behind
   * costs bounded memory (unread publications of one task merge).
   */
  updates(options: { signal?: AbortSignal } = {}): AsyncIterable<Publication> {
    const { signal } = options;
    const end = () => stream.end();
    const stream = new PublicationStream(() => {
      this.#streams.delete(stream);
      signal?.removeEventListener("abort", end);
    });
    if (this.#closed || signal?.aborted) {
      stream.end();
    } else {
      this.#streams.add(stream);
      signal?.addEventListener("abort", end, { once: true });
    }
    return stream;
  }

  protected receive(message: RegistryMessage): void {
    switch (message.kind) {
      case "publish": {
        const p = message.publication;
        this.#latest.set(p.engineId, p);
        const sink = this.#sinks.get(p.taskId) ??
          (this.#closed ? undefined : this.#table?.sinkOf(p.taskId));
        sink?.publish(p);
        for (const stream of this.#streams) stream.push(p);
        break;
      }
      case "watch":
        this.#sinks.set(message.taskId, message.sink);
        break;
      case "unwatch":
        this.#sinks.delete(message.taskId);
        break;
      case "forget":
        for (const id of message.engineIds) this.#latest.delete(id);
        break;
      case "close":
        this.#closed = true;
        this.#sinks.clear();
        for (const stream of [...this.#streams]) stream.end();
        break;
    }
  }

  protected override onCrash(error: unknown): void {
    console.error("troupe: the registry actor crashed:", error);
  }
}
