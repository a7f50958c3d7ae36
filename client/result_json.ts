/**
 * An `AsyncResult` as JSON (`ar.toJSON()`, so `JSON.stringify(ar)`): what
 * another client of the same controller needs to pick it up again with
 * `client.resume(json)`, after a kernel restart or from another process.
 *
 * @module
 */

import { taskId } from "../protocol/field_checks.ts";

/**
 * What `ar.toJSON()` gives: the tasks, where they went, and the result's
 * shape, so that a resumed result awaits to the same value shape and its
 * `data` has the same shape as the original's.
 *
 * @example
 * ```ts
 * import type { AsyncResultJSON } from "@troupe/parallel";
 * const saved: AsyncResultJSON = {
 *   troupe: "AsyncResult",
 *   version: 1,
 *   cluster: "sim",
 *   taskIds: [4294967297],
 *   engineIds: [0],
 *   single: true,
 * };
 * ```
 */
export interface AsyncResultJSON {
  /** What the object is, so that `resume` knows one when it sees it. */
  troupe: "AsyncResult";
  /** The format's version. */
  version: 1;
  /**
   * The id of the controller's cluster the tasks ran in; `null` for an
   * embedded client's (`Client.start`), whose tasks end with it.
   */
  cluster: string | null;
  /**
   * The identity of that controller's task history. A controller started
   * on a new database gives task ids out again from client 1, so this is
   * what tells a result of this history from one of another under the
   * same cluster id. Absent from results saved by an older troupe (then
   * only the cluster id is checked).
   */
  historyId?: string;
  /** The tasks, in result order. */
  taskIds: number[];
  /** The engine each went to, when it was sent (-1: not yet). */
  engineIds: number[];
  /** A single-engine result: its value and data are not wrapped. */
  single: boolean;
  /** A map's items per task. */
  items?: number[];
  /** A map that iterates as tasks complete. */
  unordered?: boolean;
}

/**
 * The JSON of a result of these tasks and shape.
 *
 * @example
 * ```ts
 * import { resultJSON } from "./result_json.ts";
 * const json = resultJSON({
 *   cluster: undefined, taskIds: [1], engineIds: [0], single: true,
 * });
 * console.log(json.cluster); // null
 * ```
 */
export function resultJSON(
  shape: Omit<AsyncResultJSON, "troupe" | "version" | "cluster"> & {
    cluster?: string;
  },
): AsyncResultJSON {
  const json: AsyncResultJSON = {
    troupe: "AsyncResult",
    version: 1,
    cluster: shape.cluster ?? null,
    taskIds: shape.taskIds,
    engineIds: shape.engineIds,
    single: shape.single,
  };
  if (shape.historyId !== undefined) json.historyId = shape.historyId;
  if (shape.items) json.items = [...shape.items];
  if (shape.unordered) json.unordered = true;
  return json;
}

/**
 * Checks that `json` is a result's JSON of cluster `clusterId` (or its
 * text) and, when both say one, of its task history `historyId`; throws a
 * `TypeError` that says what is wrong, and an `Error` for the result of
 * another cluster, of another history of this one (its task ids name
 * other tasks), or of an embedded client.
 *
 * @example
 * ```ts
 * import { checkResultJSON } from "./result_json.ts";
 * try {
 *   checkResultJSON({ troupe: "nope" }, "sim");
 * } catch (error) {
 *   console.log((error as Error).message);
 * }
 * ```
 */
export function checkResultJSON(
  json: unknown,
  clusterId: string,
  historyId?: string,
): AsyncResultJSON {
  const value = typeof json === "string" ? parse(json) : json;
  const r = value as Partial<AsyncResultJSON> | null;
  const bad = (why: string) =>
    new TypeError(
      `resume takes what ar.toJSON() (or JSON.stringify(ar)) gave; this ${why}`,
    );
  if (r === null || typeof r !== "object" || r.troupe !== "AsyncResult") {
    throw bad('is not one: it has no troupe: "AsyncResult"');
  }
  if (r.version !== 1) {
    throw bad(
      `is of version ${JSON.stringify(r.version)}; this troupe reads version ` +
        "1: resume it with the troupe that saved it",
    );
  }
  const ids = (v: unknown) =>
    Array.isArray(v) && v.every((n) => Number.isSafeInteger(n));
  if (!ids(r.taskIds) || !ids(r.engineIds)) {
    throw bad("has no list of task ids and of engine ids");
  }
  // As the controller checks a follow: there, a bad id is a malformed
  // message, which closes the whole session.
  const wrong = r.taskIds!.find((id) => taskId(id) !== undefined);
  if (wrong !== undefined) {
    throw bad(
      `has task id ${wrong}, not ${taskId(wrong)} (was it edited?)`,
    );
  }
  if (r.engineIds!.length !== r.taskIds!.length) {
    throw bad("has not as many engine ids as task ids");
  }
  if (typeof r.single !== "boolean" || (r.single && r.taskIds!.length !== 1)) {
    throw bad("does not say rightly whether it is a single engine's");
  }
  if (
    r.items !== undefined &&
    (!ids(r.items) || r.items.length !== r.taskIds!.length)
  ) {
    throw bad("has a map's items that do not match its tasks");
  }
  if (r.historyId !== undefined && typeof r.historyId !== "string") {
    throw bad("has a historyId that is not a string");
  }
  if (r.cluster === null || r.cluster === undefined) {
    throw new Error(
      "this result is of an embedded client (Client.start), whose tasks " +
        "ended with it: only results of a controller's cluster can be " +
        "resumed (start one with `deno task troupe start` and use " +
        "Client.connect)",
    );
  }
  if (r.cluster !== clusterId) {
    throw new Error(
      `this result is of cluster ${JSON.stringify(r.cluster)}, and this ` +
        `client is connected to cluster ${JSON.stringify(clusterId)}: ` +
        `resume it on a client of Client.connect(${JSON.stringify(r.cluster)})`,
    );
  }
  // Either side may be of a troupe before history ids: then the cluster id
  // is all there is to check.
  if (
    r.historyId !== undefined && historyId !== undefined &&
    r.historyId !== historyId
  ) {
    throw new Error(
      `this result was saved from another history of cluster ` +
        `${JSON.stringify(clusterId)} (history ${r.historyId}, now ` +
        `${historyId}): the controller was started on a new database, so ` +
        `its task ids name other tasks; the result is not there`,
    );
  }
  return r as AsyncResultJSON;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TypeError(
      `resume takes what ar.toJSON() (or JSON.stringify(ar)) gave; this ` +
        `text is not JSON: ${(error as Error).message}`,
    );
  }
}
