/**
 * What an engine reports of itself beside its tasks: its memory and its
 * publications, kept by its engine actor across its lives.
 *
 * @module
 */

import type { EngineLink } from "../protocol/engine_link.ts";
import type { EngineMemory, PongMessage } from "../protocol/messages.ts";
import { estimatedBytes } from "./publication_size.ts";

/**
 * What one engine reported of itself, for the metrics and `engines()`: its
 * memory (each `pong`), and its publications over all its lives with
 * their bytes: the frames' exact sizes where its link counts them (TCP),
 * else `estimatedBytes` of each publication's data (a Worker).
 *
 * @example
 * ```ts
 * import { EngineFigures } from "./engine_figures.ts";
 * import type { EngineLink } from "../protocol/engine_link.ts";
 * const figures = new EngineFigures();
 * const worker = {} as EngineLink; // No publicationBytes: estimated.
 * figures.published(worker, { step: 1 });
 * figures.pong({ t: "pong", memory: { heapBytes: 4096 } });
 * console.log(figures.publications(worker), figures.memory?.heapBytes);
 * // { count: 1, bytes: 12 } 4096
 * ```
 */
export class EngineFigures {
  #count = 0;
  /** Estimated bytes, and exact ones of the links that ended. */
  #bytes = 0;
  #memory: EngineMemory | undefined;

  /** A publication came over `link`. */
  published(link: EngineLink, data: unknown): void {
    this.#count++;
    if (link.publicationBytes === undefined) {
      this.#bytes += estimatedBytes(data);
    }
  }

  /** The engine answered a ping. */
  pong(message: PongMessage): void {
    if (message.memory) this.#memory = message.memory;
  }

  /** The engine is down: its last memory is no longer its own. */
  down(): void {
    this.#memory = undefined;
  }

  /** `link` is replaced by the next one: its exact bytes are kept. */
  linkEnded(link: EngineLink): void {
    this.#bytes += link.publicationBytes ?? 0;
  }

  /** Its memory, as its last `pong` said, while it is up. */
  get memory(): EngineMemory | undefined {
    return this.#memory;
  }

  /** Every publication so far, `link` being the current one. */
  publications(link: EngineLink): { count: number; bytes: number } {
    return {
      count: this.#count,
      bytes: this.#bytes + (link.publicationBytes ?? 0),
    };
  }
}
