/**
 * What a view can run: a function shipped by its source, or a function
 * exported by a module that engines import.
 *
 * @module
 */

import type { FunctionRef } from "../protocol/messages.ts";
import { shippable } from "./shippable.ts";

/** Any function a task can run. */
// deno-lint-ignore no-explicit-any
export type TaskFunction = (...args: any[]) => unknown;

/** What a task's function gives back, once awaited. */
export type TaskValue<F extends TaskFunction> = Awaited<ReturnType<F>>;

/**
 * A function exported by a module, named for engines to import. Build one
 * with `moduleFunction`; views accept it wherever they accept a function.
 */
export interface ModuleTask<F extends TaskFunction> {
  /** The module's absolute URL. */
  readonly url: string;
  /** The export's name. */
  readonly name: string;
  /** Carries the function's type; never set. */
  readonly signature?: F;
}

/** A function to ship, or a module function. */
export type Runnable<F extends TaskFunction> = F | ModuleTask<F>;

/**
 * Names `name`, exported by the module at `url`, as a task. Engines import
 * the module once and cache it, so such a function may use imports,
 * closures and module state freely, which a shipped function may not. Pass
 * the function's type to type the arguments and the result.
 *
 * Use a shipped function for small, self-contained work typed inline; use a
 * module function for real code: anything that imports, shares helpers, or
 * is large.
 *
 * @example
 * ```ts
 * import { Client, moduleFunction } from "@troupe/parallel";
 * // Usually sim.ts sits next to your code: new URL("./sim.ts", import.meta.url).
 * const dir = await Deno.makeTempDir();
 * const sim = new URL(`file://${dir}/sim.ts`);
 * await Deno.writeTextFile(sim, "export const step = (n: number) => n * 2;");
 * const step = moduleFunction<(n: number) => number>(sim, "step");
 * {
 *   await using client = await Client.start({ workers: 2 });
 *   const results: number[] = await client.view().applyAsync(step, 10);
 *   console.log(results); // [20, 20]
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function moduleFunction<F extends TaskFunction>(
  url: URL | string,
  name: string,
): ModuleTask<F> {
  let href: string;
  try {
    href = new URL(url).href;
  } catch {
    throw new TypeError(
      `${url} is not an absolute URL; write new URL("./file.ts", ` +
        "import.meta.url) so that every engine finds the same module",
    );
  }
  if (typeof name !== "string" || name === "") {
    throw new TypeError("moduleFunction needs the name of an export");
  }
  return Object.freeze({ url: href, name });
}

/**
 * How the engine finds `task`: its source, or its module and export.
 *
 * @example
 * ```ts
 * import { functionRef } from "./task_function.ts";
 * console.log(functionRef(() => 1).kind); // "source"
 * ```
 */
export function functionRef(task: unknown): FunctionRef {
  const wrapped = typeof task === "function" ? wrappers.get(task) : undefined;
  if (wrapped?.kind === "remote") return functionRef(wrapped.fn);
  if (wrapped) throw wrapperRefusal(wrapped.fn, wrapped.kind);
  if (typeof task === "object" && task !== null && "url" in task) {
    const { url, name } = task as ModuleTask<TaskFunction>;
    return { kind: "module", url, name };
  }
  if (typeof task !== "function") return shippable(task);
  // A function submitted in a loop is read and checked once.
  let ref = refs.get(task);
  if (ref) return ref;
  ref = shippable(task);
  // Kept by function only the first time its source is seen: a fresh
  // closure of a known source (one per call, as an arrow written in a loop)
  // would never be asked for again, and an entry per call costs more than
  // the lookup by source that `shippable` does.
  if (!sources.has(ref)) {
    sources.add(ref);
    refs.set(task, ref);
  }
  return ref;
}

/**
 * Marks `wrapper` as made by `view.remote` or `view.parallel` from `fn`,
 * for `functionRef`: a wrapper's own source only calls a view, which does
 * not exist on an engine. A remote wrapper given as a task runs `fn` (its
 * arguments are `fn`'s, and its awaited value is `fn`'s value, as the
 * types say); one of a view of several engines (`"remote per engine"`,
 * whose value is a list per engine) and a parallel wrapper (which takes
 * sequences where `fn` takes items) are refused: running `fn` in their
 * place would give a value of another type than theirs.
 *
 * @example
 * ```ts
 * import { functionRef, markWrapper } from "./task_function.ts";
 * const double = (x: number) => x * 2;
 * const wrapper = (x: number) => Promise.resolve(double(x));
 * markWrapper(wrapper, double, "remote");
 * console.log(functionRef(wrapper) === functionRef(double)); // true
 * ```
 */
export function markWrapper(
  wrapper: TaskFunction,
  fn: Runnable<TaskFunction>,
  kind: WrapperKind,
): void {
  wrappers.set(wrapper, { fn, kind });
}

const wrappers = new WeakMap<
  object,
  { fn: Runnable<TaskFunction>; kind: WrapperKind }
>();
type WrapperKind = "remote" | "remote per engine" | "parallel";

function wrapperRefusal(
  fn: Runnable<TaskFunction>,
  kind: WrapperKind,
): TypeError {
  const of = fn.name ? ` of ${fn.name}` : "";
  if (kind === "remote per engine") {
    return new TypeError(
      `this function is a view.remote wrapper${of} on a view of several ` +
        "engines: its value is a list, one per engine, which a task cannot " +
        "give; pass the original function (or a wrapper made by lv.remote " +
        "or client.view(id).remote, which stands for it)",
    );
  }
  return new TypeError(
    `this function is a view.parallel wrapper${of}: it maps over sequences ` +
      "from the client and cannot run as a task; pass the original " +
      "function (mapAsync(fn, seq) maps it, applyAsync(fn, x) runs it once)",
  );
}
const refs = new WeakMap<object, FunctionRef>();
/** What `shippable` gave: a source seen before gives the same object. */
const sources = new WeakSet<FunctionRef>();
