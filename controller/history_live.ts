/**
 * A task of the history between its submission and the flush that writes
 * its end: what the database will hold for it, kept in memory so that the
 * many small events of a task cost no write each, and cut to the history's
 * limits as they arrive (a task that publishes a million times between two
 * flushes holds the last few publications and one merged record, not a
 * million).
 *
 * @module
 */

import type { SubmittedTask } from "../cluster/cluster.ts";
import type { FunctionRef } from "../protocol/messages.ts";
import { mergeData, type Publication } from "../protocol/publication.ts";
import type { TaskState } from "../remote/wire.ts";
import { encodeValue } from "../transport/codec.ts";
import { messageOf } from "../protocol/errors.ts";
import { counted } from "../protocol/counted.ts";

/**
 * What the history keeps of a task, all set (`History.open` fills in the
 * defaults).
 *
 * @example
 * ```ts
 * import type { HistoryLimits } from "./history_live.ts";
 * const limits: HistoryLimits = {
 *   maxTasks: 100_000,
 *   maxAgeMs: undefined,
 *   maxPublicationsPerTask: 100,
 *   maxValueBytes: 16 * 2 ** 20,
 *   maxStreamBytes: 2 ** 20,
 * };
 * ```
 */
export interface HistoryLimits {
  maxTasks: number;
  maxAgeMs: number | undefined;
  maxPublicationsPerTask: number;
  maxValueBytes: number;
  maxStreamBytes: number;
}

/** Nothing, shared: what most tasks have to note and to publish. */
const NONE: readonly never[] = Object.freeze([]);

/** A publication with its place among its task's publications (1, 2, ...). */
interface Numbered {
  ord: number;
  publication: Publication;
}

/**
 * A publication as the flush writes it.
 *
 * @example
 * ```ts
 * import type { KeptPublication } from "./history_live.ts";
 * import { encodeValue } from "../transport/codec.ts";
 * const data = { i: 1 };
 * const kept: KeptPublication = {
 *   ord: 1,
 *   publication: { engineId: 0, taskId: 1, seq: 1, time: 0, data },
 *   data: encodeValue(data),
 * };
 * ```
 */
export interface KeptPublication extends Numbered {
  /** `publication.data`, encoded. */
  data: Uint8Array;
}

/**
 * One task as the next flush will write it. The light fields are always
 * whole; the heavy ones hold what came since the last flush (a stream's new
 * text, the new publications) or are encoded once (arguments, value).
 *
 * @example
 * ```ts
 * import { LiveTask } from "./history_live.ts";
 * const limits = {
 *   maxTasks: 10, maxAgeMs: undefined, maxPublicationsPerTask: 2,
 *   maxValueBytes: 1024, maxStreamBytes: 4,
 * };
 * const task = new LiveTask({
 *   taskId: 1, fn: { kind: "source", source: "() => 1" }, args: [],
 *   placement: { engineId: 0 },
 * }, 1, Date.now(), limits);
 * task.stream("stdout", "hello");
 * console.log(task.stdout, task.stdoutCut); // "hell" 1
 * ```
 */
export class LiveTask {
  readonly taskId: number;
  readonly clientNo: number;
  /** The function as JSON: its row in the functions table. */
  readonly ref: string;
  readonly mode: string | null;
  readonly submitted: number;
  engineId: number | undefined;
  state: TaskState = "queued";
  started: number | undefined;
  completed: number | undefined;
  errorMessage: string | undefined;
  /** The encoded arguments until the first flush writes them; empty if not kept. */
  args: Uint8Array | undefined;
  /** Whether a flush has written the task's row. */
  inserted = false;
  value: Uint8Array | undefined;
  error: Uint8Array | undefined;
  /** Every publication the task made, kept or not. */
  publications = 0;
  /** The task's merged data, once it has published. */
  data: Record<string, unknown> | undefined;
  dataChanged = false;
  /** Text written since the last flush. */
  stdout = "";
  stderr = "";
  /** Bytes of stdout and stderr kept so far, in all. */
  streamBytes = 0;
  stdoutCut = 0;
  stderrCut = 0;
  /** Whether a flush has something to write for it. */
  dirty = false;
  /**
   * The bytes the flush queue counts for it while it waits: what a slice
   * that writes it takes off the queue's count.
   */
  queuedBytes = 0;
  #limits: HistoryLimits;
  #pending: Numbered[] = [];
  #tooLargeNow = 0;
  #tooLarge = 0;
  /** Why a heavy field was not kept, by field. */
  #notes = new Map<string, string>();

  constructor(
    task: SubmittedTask,
    clientNo: number,
    at: number,
    limits: HistoryLimits,
  ) {
    this.taskId = task.taskId;
    this.clientNo = clientNo;
    this.ref = refKey(task.fn);
    this.mode = task.mode === "map" ? "map" : null;
    this.submitted = at;
    this.#limits = limits;
    if ("engineId" in task.placement) this.engineId = task.placement.engineId;
    this.args = this.encoded("args", task.args);
  }

  /** Whether the task has ended (its row then leaves memory once written). */
  get finished(): boolean {
    return this.completed !== undefined;
  }

  /**
   * `value` encoded, or an empty array and a note when it is larger than
   * `maxValueBytes` or cannot be stored at all.
   */
  encoded(field: string, value: unknown): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = encodeValue(value);
    } catch (error) {
      this.#notes.set(field, `${field}: cannot be stored: ${messageOf(error)}`);
      return new Uint8Array(0);
    }
    const max = this.#limits.maxValueBytes;
    if (bytes.byteLength <= max) {
      this.#notes.delete(field);
      return bytes;
    }
    this.#notes.set(
      field,
      `${field}: ${bytes.byteLength} bytes encoded, more than ` +
        `maxValueBytes (${max})`,
    );
    return new Uint8Array(0);
  }

  /** Keeps `text` while stdout and stderr together fit `maxStreamBytes`. */
  stream(name: "stdout" | "stderr", text: string): void {
    // Once cut, the rest goes too: a stream with holes would mislead.
    const room = this.stdoutCut + this.stderrCut > 0
      ? 0
      : this.#limits.maxStreamBytes - this.streamBytes;
    const bytes = utf8Length(text);
    let kept = text;
    let keptBytes = bytes;
    if (bytes > room) {
      kept = utf8Prefix(text, Math.max(room, 0));
      keptBytes = utf8Length(kept);
      if (name === "stdout") this.stdoutCut += bytes - keptBytes;
      else this.stderrCut += bytes - keptBytes;
    }
    this.streamBytes += keptBytes;
    if (name === "stdout") this.stdout += kept;
    else this.stderr += kept;
  }

  /**
   * Counts and merges a publication; only the last `maxPublicationsPerTask`
   * wait for the flush, so memory stays bounded however often a task
   * publishes.
   */
  publish(publication: Publication): void {
    const ord = ++this.publications;
    this.data = mergeData(this.data ?? {}, publication.data);
    this.dataChanged = true;
    const max = this.#limits.maxPublicationsPerTask;
    const pending = this.#pending;
    pending.push({ ord, publication });
    // Dropped in halves, so that each publication costs O(1) on average.
    if (pending.length >= 2 * max) pending.splice(0, pending.length - max);
  }

  /**
   * The publications the flush writes, encoded: the last ones that fit the
   * limit, each no larger than `maxValueBytes`.
   */
  pendingPublications(): readonly KeptPublication[] {
    // Most tasks never publish: they cost no array.
    if (this.#pending.length === 0) return NONE;
    const max = this.#limits.maxPublicationsPerTask;
    const out: KeptPublication[] = [];
    // Counted afresh: a flush that failed and is tried again counts each
    // only once.
    this.#tooLargeNow = 0;
    for (const { ord, publication } of this.#pending) {
      if (ord <= this.publications - max) continue;
      const data = this.encoded("publication", publication.data);
      if (data.byteLength === 0) {
        this.#notes.delete("publication");
        this.#tooLargeNow++;
        continue;
      }
      out.push({ ord, publication, data });
    }
    return out;
  }

  /** The first publication the history still keeps, by its `ord`. */
  get firstKeptPublication(): number {
    return this.publications - this.#limits.maxPublicationsPerTask + 1;
  }

  /** Every reason a heavy field was not kept, as stored with the task. */
  notKept(): readonly string[] {
    const quiet = this.#notes.size === 0 && this.stdoutCut === 0 &&
      this.stderrCut === 0 && this.#tooLarge + this.#tooLargeNow === 0 &&
      this.publications <= this.#limits.maxPublicationsPerTask;
    if (quiet) return NONE;
    const notes = [...this.#notes.values()];
    const { maxPublicationsPerTask, maxStreamBytes, maxValueBytes } =
      this.#limits;
    const dropped = this.publications - maxPublicationsPerTask;
    if (dropped > 0) {
      notes.push(
        `publications: the first ${dropped} of ${this.publications} not ` +
          `kept (maxPublicationsPerTask keeps the last ${maxPublicationsPerTask})`,
      );
    }
    const tooLarge = this.#tooLarge + this.#tooLargeNow;
    if (tooLarge > 0) {
      notes.push(
        `publications: ${tooLarge} not kept, each larger than ` +
          `maxValueBytes (${maxValueBytes}) encoded or not storable`,
      );
    }
    for (
      const [name, cut] of [["stdout", this.stdoutCut], [
        "stderr",
        this.stderrCut,
      ]] as const
    ) {
      if (cut > 0) {
        notes.push(
          `${name}: ${
            counted(cut, "byte")
          } cut (maxStreamBytes keeps the first ` +
            `${maxStreamBytes} bytes of stdout and stderr together)`,
        );
      }
    }
    return notes;
  }

  /** What the last flush wrote is no longer pending. */
  written(): void {
    this.inserted = true;
    this.args = undefined;
    this.stdout = "";
    this.stderr = "";
    this.dataChanged = false;
    this.#pending = [];
    this.#tooLarge += this.#tooLargeNow;
    this.#tooLargeNow = 0;
    this.dirty = false;
  }
}

/**
 * The function as the functions table keys it: its ref as JSON, fields in a
 * fixed order so that one function has one row.
 *
 * @example
 * ```ts
 * import { refKey } from "./history_live.ts";
 * console.log(refKey({ kind: "source", source: "() => 1" }));
 * // {"kind":"source","source":"() => 1"}
 * ```
 */
export function refKey(ref: FunctionRef): string {
  return ref.kind === "module"
    ? JSON.stringify({ kind: "module", url: ref.url, name: ref.name })
    : JSON.stringify({ kind: "source", source: ref.source });
}

/**
 * A function, briefly: its name if its source has one (a wrapped method's
 * too), else the start of its source; a module function's export and
 * module.
 *
 * @example
 * ```ts
 * import { describeFunction } from "./history_live.ts";
 * console.log(describeFunction({ kind: "source", source: "function step(n) { return n }" })); // "step"
 * console.log(describeFunction({ kind: "module", url: "file:///sim.ts", name: "run" })); // "run from file:///sim.ts"
 * ```
 */
export function describeFunction(ref: FunctionRef): string {
  if (ref.kind === "module") return `${ref.name} from ${ref.url}`;
  const source = ref.source;
  const named =
    /^\s*(?:async\s+)?function\s*\*?\s*([\p{L}\p{Nl}_$][\p{L}\p{N}_$]*)/u
      .exec(source);
  if (named) return named[1];
  // shippable() wraps a method as `({ name() {...} })["name"]`.
  const method = /\}\s*\)\s*\[("(?:[^"\\]|\\.)*")\]\s*$/.exec(source);
  if (method) {
    try {
      return JSON.parse(method[1]);
    } catch {
      // Not the wrapping after all: described by its start below.
    }
  }
  const flat = source.replace(/\s+/g, " ").trim();
  return flat.length <= 60 ? flat : `${flat.slice(0, 59)}…`;
}

/**
 * How many bytes `text` takes in UTF-8 (a lone surrogate as U+FFFD),
 * counted without encoding it.
 *
 * @example
 * ```ts
 * import { utf8Length } from "./history_live.ts";
 * console.log(utf8Length("é1")); // 3
 * ```
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (isPairAt(text, i)) i++, bytes += 2;
    else bytes += 2;
  }
  return bytes;
}

/**
 * The longest start of `text` that fits `max` bytes of UTF-8, never half
 * a surrogate pair.
 *
 * @example
 * ```ts
 * import { utf8Prefix } from "./history_live.ts";
 * console.log(utf8Prefix("aé😀", 4)); // "aé"
 * ```
 */
export function utf8Prefix(text: string, max: number): string {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const pair = isPairAt(text, i);
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + size > max) return text.slice(0, i);
    bytes += size;
    if (pair) i++;
  }
  return text;
}

function isPairAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c >= 0xdc00 || i + 1 >= text.length) return false;
  const d = text.charCodeAt(i + 1);
  return d >= 0xdc00 && d < 0xe000;
}
