/**
 * How a connection tells its close: once to each handler, and to one set
 * after the close too (on a microtask), so that a close that comes while
 * one owner hands the connection to the next (handshake, then engine)
 * reaches the next owner.
 *
 * @module
 */

/**
 * The close handler of one connection.
 *
 * @example
 * ```ts
 * import { CloseNotice } from "./close_notice.ts";
 * const notice = new CloseNotice();
 * notice.handler = (reason) => console.log("closed:", reason);
 * notice.closed("bye"); // closed: bye
 * notice.closed("again"); // (nothing: told once)
 * ```
 */
export class CloseNotice {
  #handler: (reason: string) => void = () => {};
  /** Why the connection closed, once the handler has been told. */
  #closedWith: string | undefined;
  /** Handlers that have been told of the close: none is told twice. */
  #told = new WeakSet<(reason: string) => void>();

  /** Who hears the close. */
  get handler(): (reason: string) => void {
    return this.#handler;
  }

  /** Set after the close, it is told too, on a microtask. */
  set handler(handler: (reason: string) => void) {
    this.#handler = handler;
    if (this.#closedWith !== undefined) queueMicrotask(() => this.#tell());
  }

  /** The connection closed for `reason` (the first reason stays). */
  closed(reason: string): void {
    this.#closedWith ??= reason;
    this.#tell();
  }

  #tell(): void {
    const handler = this.#handler;
    if (this.#told.has(handler)) return;
    this.#told.add(handler);
    handler(this.#closedWith!);
  }
}
