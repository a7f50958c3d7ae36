/**
 * A start gate: at most so many of a launcher's engines starting at once.
 * An engine process spends ~0.15 s of CPU loading troupe, starting its task
 * thread and doing its handshake. 256 of them booting together on 2 cores
 * share those cores 256 ways with the client, which then cannot answer
 * their handshakes or heartbeats in time: engines time out, die, are
 * restarted, and the storm feeds itself (measured: 1 of 256 registered in
 * 60 s, 344 deaths). Through the gate they boot a few at a time, each at
 * nearly full speed, and the client keeps its share: all 256 register.
 *
 * @module
 */

import {
  type EngineToLaunch,
  type LaunchedEngine,
  type Launcher,
  type LaunchInfo,
  type LaunchRequest,
  startThrough,
} from "./launcher.ts";

/** An engine the gate holds until its turn, then the launcher's handle. */
class GatedEngine implements LaunchedEngine {
  readonly engineId: number;
  readonly ended: Promise<string>;
  #end: (why: string) => void;
  #real: LaunchedEngine | undefined;
  #stopped = false;
  #unref = false;
  /** Whether it counts against the gate: started, not registered or ended. */
  holdsSlot = false;
  /** Its launcher's `start` is under way. */
  launching = false;

  constructor(engineId: number) {
    this.engineId = engineId;
    const { promise, resolve } = Promise.withResolvers<string>();
    this.ended = promise;
    this.#end = resolve;
  }

  get info(): LaunchInfo | undefined {
    return this.#real?.info;
  }

  /** Waiting for its turn is a queue: its start deadline does not run. */
  get queued(): boolean {
    return this.#real ? this.#real.queued ?? false : !this.#stopped;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** The launcher started it: from now on it is that handle. */
  started(real: LaunchedEngine, onEnd: () => void): void {
    this.#real = real;
    if (this.#unref) real.unref?.();
    real.ended.then((why) => {
      onEnd();
      this.#end(why);
    });
    if (this.#stopped) real.stop().catch(() => {});
  }

  /** The launcher failed to start it. */
  failed(why: string): void {
    this.#end(why);
  }

  stop(): Promise<void> {
    this.#stopped = true;
    if (this.#real) return this.#real.stop();
    // `started` stops it once its handle comes, `failed` ends it: either
    // way it has ended when `ended` resolves, and nothing is left running.
    if (this.launching) return this.ended.then(() => {});
    this.#end("it was stopped before its turn to start");
    return Promise.resolve();
  }

  unref(): void {
    this.#unref = true;
    this.#real?.unref?.();
  }
}

/**
 * Wraps `launcher` so that at most `limit` of its engines are between their
 * start and their registration at once; the others wait, queued (their
 * start deadline does not run), and start in turn, several in one
 * `launcher.start` when several turns come together. Admission tells the
 * gate when an engine registers.
 *
 * @example
 * ```ts
 * import { StartGate } from "./start_gate.ts";
 * import { HostProcess } from "../transport/engine_host.ts";
 * const gate = new StartGate({
 *   name: "echo",
 *   engines: 1,
 *   start: (request) =>
 *     Promise.resolve(request.engines.map(() =>
 *       new HostProcess({ command: "true", args: [] })
 *     )),
 * }, 1);
 * const [first, second] = await gate.launcher.start({
 *   engines: [{ engineId: 0, secrets: "{}" }, { engineId: 1, secrets: "{}" }],
 *   args: [],
 *   connect: { hostname: "127.0.0.1", port: 1 },
 * });
 * console.log(second.queued); // true: its turn comes when engine 0 ends
 * console.log(await first.ended); // its process exited with code 0
 * console.log(await second.ended); // its process exited with code 0
 * ```
 */
export class StartGate {
  /** The gated launcher, to give the launch group instead of the raw one. */
  readonly launcher: Launcher;
  #inner: Launcher;
  #limit: number;
  #running = 0;
  #waiting: Waiting[] = [];
  /** Engines started and not yet registered, by id. */
  #starting = new Map<number, GatedEngine>();
  #closed = false;

  /** At most `limit` (≥ 1) engines of `inner` starting at once. */
  constructor(inner: Launcher, limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(
        `the ${inner.name} launcher's startsAtOnce must be a whole number ` +
          `of at least 1, not ${limit}`,
      );
    }
    this.#inner = inner;
    this.#limit = limit;
    this.launcher = {
      name: inner.name,
      engines: inner.engines,
      start: (request) => Promise.resolve(this.#enqueue(request)),
      close: () => this.#close(),
    };
  }

  /** Engine `engineId` registered: its turn is over, the next may start. */
  registered(engineId: number): void {
    const engine = this.#starting.get(engineId);
    if (engine) this.#release(engine);
  }

  #enqueue(request: LaunchRequest): LaunchedEngine[] {
    const { engines, ...args } = request;
    const handles = engines.map((toLaunch) => {
      const engine = new GatedEngine(toLaunch.engineId);
      this.#waiting.push({ engine, toLaunch, args });
      return engine;
    });
    this.#admit();
    return handles;
  }

  /** Starts waiting engines while there is room, batched by request. */
  #admit(): void {
    if (this.#closed) return;
    const turn: Waiting[] = [];
    while (this.#running + turn.length < this.#limit) {
      const next = this.#waiting.shift();
      if (!next) break;
      if (!next.engine.stopped) turn.push(next);
    }
    for (const { engine } of turn) {
      engine.holdsSlot = true;
      engine.launching = true;
      this.#running++;
      this.#starting.set(engine.engineId, engine);
    }
    // One start per run of the same request (the engines asked in a turn).
    let from = 0;
    for (let i = 1; i <= turn.length; i++) {
      if (i === turn.length || turn[i].args !== turn[from].args) {
        this.#start(turn.slice(from, i));
        from = i;
      }
    }
  }

  async #start(turn: Waiting[]): Promise<void> {
    const answer = await startThrough(this.#inner, () => ({
      ...turn[0].args,
      engines: turn.map((t) => t.toLaunch),
    }));
    if ("why" in answer) {
      for (const { engine } of turn) {
        this.#release(engine);
        engine.failed(answer.why);
      }
      return;
    }
    const { handles } = answer;
    turn.forEach(({ engine }, i) => {
      engine.started(handles[i], () => this.#release(engine));
    });
  }

  #release(engine: GatedEngine): void {
    engine.launching = false;
    if (!engine.holdsSlot) return;
    engine.holdsSlot = false;
    this.#running--;
    if (this.#starting.get(engine.engineId) === engine) {
      this.#starting.delete(engine.engineId);
    }
    this.#admit();
  }

  async #close(): Promise<void> {
    this.#closed = true;
    for (const { engine } of this.#waiting) engine.stop();
    this.#waiting = [];
    await this.#inner.close?.();
  }
}

type Args = Omit<LaunchRequest, "engines">;

/** An engine waiting for its turn, with what its launcher is to be asked. */
interface Waiting {
  engine: GatedEngine;
  toLaunch: EngineToLaunch;
  args: Args;
}
