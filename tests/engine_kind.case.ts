/**
 * The behaviour every kind of engine must have, written once and run
 * against each, as hono runs one suite against every router:
 * `worker_engines_test.ts` and `process_engines_test.ts` each call
 * {@linkcode engineKindCases} with their kind, and
 * `connected_engines_test.ts` with each kind on a client connected to a
 * controller (`Client.connect`). A case belongs here when a user could not
 * tell the kinds, or an embedded client from a connected one, apart by it;
 * what only one kind has (a process's pid, signals from outside, a
 * Worker's heap limit) stays in its own file. The view API
 * (tests/direct_view_*_test.ts, tests/load_balanced_*_test.ts,
 * tests/module_tasks_test.ts) runs on both kinds and both sides too,
 * through `eachEngineKind`.
 *
 * @module
 */

import { errorCases } from "./engine_kind_errors.case.ts";
import { failureCases } from "./engine_kind_failures.case.ts";
import { publishCases } from "./engine_kind_publish.case.ts";
import { shippingCases } from "./engine_kind_shipping.case.ts";
import { taskCases } from "./engine_kind_tasks.case.ts";
import { valueCases } from "./engine_kind_values.case.ts";
import type { ClientSide, EngineKind } from "./helpers.ts";

/**
 * Registers every case that engines of `kind` must pass, each a `Deno.test`
 * whose name starts with the kind; with `side` "connected", on a client
 * that `Client.connect`s to a controller of such engines
 * (tests/connected_engines_test.ts).
 *
 * @example
 * ```ts ignore
 * // tests/worker_engines_test.ts, the whole file
 * import { engineKindCases } from "./engine_kind.case.ts";
 * engineKindCases("worker");
 * ```
 */
export function engineKindCases(
  kind: EngineKind,
  side: ClientSide = "embedded",
): void {
  taskCases(kind, side);
  publishCases(kind, side);
  valueCases(kind, side);
  errorCases(kind, side);
  shippingCases(kind, side);
  failureCases(kind, side);
}
