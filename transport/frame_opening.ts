/**
 * How a sealed connection opens the frames it reads: each as soon as it
 * comes (opening is asynchronous), handed on in frame order, with a bound
 * on the bytes read and not yet opened.
 *
 * @module
 */

import type { FrameSeal } from "./seal.ts";

/**
 * Sealed bytes read but not yet opened past which reading waits: a peer
 * that sends faster than frames open must not fill memory.
 */
const MAX_OPENING_BYTES = 64 * 2 ** 20;

/**
 * The opens in flight of one connection, chained so that bodies come out
 * in frame order.
 *
 * @example
 * ```ts
 * import { FrameOpening } from "./frame_opening.ts";
 * import type { FrameSeal } from "./seal.ts";
 * const plain: FrameSeal = {
 *   open: (body: Uint8Array) => Promise.resolve(body),
 * } as unknown as FrameSeal;
 * const opening = new FrameOpening(
 *   (body) => console.log(body.length),
 *   (why) => console.log("broken:", why),
 * );
 * opening.open(plain, new Uint8Array(3));
 * await opening.settled; // 3
 * ```
 */
export class FrameOpening {
  #chain: Promise<void> = Promise.resolve();
  #bytes = 0;

  /**
   * `opened` gets each body once open, in order; `failed` why one could
   * not be (after it, nothing more is opened).
   */
  constructor(
    private readonly opened: (plain: Uint8Array) => void,
    private readonly failed: (reason: string) => void,
  ) {}

  /** Opens `body` with `seal` after the frames before it. */
  open(seal: FrameSeal, body: Uint8Array): void {
    const opening = seal.open(body);
    opening.catch(() => {}); // Reported in order, below.
    this.#bytes += body.byteLength;
    this.#chain = this.#chain.then(async () => {
      let plain: Uint8Array;
      try {
        plain = await opening;
      } catch (error) {
        this.failed(error instanceof Error ? error.message : String(error));
        return;
      } finally {
        this.#bytes -= body.byteLength;
      }
      this.opened(plain);
    });
  }

  /** Whether reading should wait for `settled` before it reads more. */
  get full(): boolean {
    return this.#bytes > MAX_OPENING_BYTES;
  }

  /** Resolves once every open begun so far is done. */
  get settled(): Promise<void> {
    return this.#chain;
  }
}
