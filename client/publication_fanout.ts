/**
 * The readers of one result's publications (`ar.publications()`), each
 * with a stream of its own.
 *
 * @module
 */

import {
  type Publication,
  PublicationStream,
} from "../protocol/publication.ts";

/**
 * Every open reader's stream: a publication goes to each, and `end()` ends
 * them all (a stream opened after that starts ended). A reader that stops
 * early leaves the set.
 *
 * @example
 * ```ts
 * import { PublicationFanout } from "./publication_fanout.ts";
 * const fanout = new PublicationFanout();
 * const reader = fanout.open();
 * fanout.push({ engineId: 0, taskId: 1, seq: 1, time: 0, data: { i: 1 } });
 * fanout.end();
 * for await (const p of reader) console.log(p.data); // { i: 1 }
 * ```
 */
export class PublicationFanout {
  #streams = new Set<PublicationStream>();
  #ended = false;

  /** A new reader's stream, from now on. */
  open(): AsyncIterable<Publication> {
    const stream = new PublicationStream(() => this.#streams.delete(stream));
    if (this.#ended) stream.end();
    else this.#streams.add(stream);
    return stream;
  }

  /** Hands `publication` to every reader. */
  push(publication: Publication): void {
    for (const stream of this.#streams) stream.push(publication);
  }

  /** Ends every reader's stream, and those opened later. */
  end(): void {
    this.#ended = true;
    for (const stream of [...this.#streams]) stream.end();
  }
}
