/**
 * A link to an engine that the test plays itself: it records what the
 * client sends and says what the test tells it to. It lets the unit tests
 * of the cluster core (engine actor, supervisor, scheduler) drive exact
 * interleavings, deterministically, without a thread or a process; the
 * integration tests run the same core on real Workers and processes.
 *
 * @module
 */

import type { EngineLink } from "../protocol/engine_link.ts";
import type { FromEngine, ToEngine } from "../protocol/messages.ts";

/** What a `FakeLink` is like: the flags real links differ by. */
export interface FakeLinkOptions {
  /** As an engine process (`true`) or a Worker (`false`, the default). */
  answersWhileBusy?: boolean;
  /** As a Worker (`true`, the default) or a process (`false`). */
  sharesMemory?: boolean;
  /** Give the link `interrupt()`, as an engine process has. */
  interruptible?: boolean;
  /** Give the link `shutdown()`, as a remote engine has. */
  shutdownable?: boolean;
  /** A frame limit, as a TCP link has (`init` tells the engine). */
  maxFrameBytes?: number;
  /** Make `send` throw for messages this returns `true` for. */
  refuse?: (message: ToEngine) => boolean;
}

/**
 * An `EngineLink` whose engine is the test.
 *
 * @example
 * ```ts
 * import { FakeLink } from "./fake_link.ts";
 * const link = new FakeLink();
 * link.onMessage = (m) => console.log(m.t); // "ready"
 * link.say({ t: "ready" });
 * ```
 */
export class FakeLink implements EngineLink {
  /** Everything the client sent, in order. */
  readonly sent: ToEngine[] = [];
  onMessage: (message: FromEngine) => void = () => {};
  onExit: (reason: string) => void = () => {};
  readonly answersWhileBusy: boolean;
  readonly sharesMemory: boolean;
  readonly maxFrameBytes?: number;
  interrupt?: () => void;
  shutdown?: () => Promise<void>;
  /** How often the client called `terminate`, `interrupt`, `shutdown`. */
  terminated = 0;
  interrupted = 0;
  shutDown = 0;
  #refuse: (message: ToEngine) => boolean;
  #exited = false;

  constructor(options: FakeLinkOptions = {}) {
    this.answersWhileBusy = options.answersWhileBusy ?? false;
    this.sharesMemory = options.sharesMemory ?? true;
    this.maxFrameBytes = options.maxFrameBytes;
    this.#refuse = options.refuse ?? (() => false);
    if (options.interruptible) this.interrupt = () => void this.interrupted++;
    if (options.shutdownable) {
      this.shutdown = () => {
        this.shutDown++;
        this.exit("it was shut down");
        return Promise.resolve();
      };
    }
  }

  send(message: ToEngine): void {
    if (this.#exited) return; // As a real link: a dead link drops sends.
    if (this.#refuse(message)) {
      throw new TypeError(`the fake link refuses a "${message.t}" message`);
    }
    this.sent.push(message);
  }

  terminate(): Promise<void> {
    this.terminated++;
    this.exit("it was terminated");
    return Promise.resolve();
  }

  /** The engine says `message`. */
  say(message: FromEngine): void {
    if (!this.#exited) this.onMessage(message);
  }

  /** The engine is gone, once; later calls do nothing, as on a real link. */
  exit(reason: string): void {
    if (this.#exited) return;
    this.#exited = true;
    this.onExit(reason);
  }

  /** Whether the link has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /** The messages of kind `t` sent so far. */
  sentOf<T extends ToEngine["t"]>(t: T): Extract<ToEngine, { t: T }>[] {
    return this.sent.filter((m) => m.t === t) as Extract<ToEngine, { t: T }>[];
  }
}
