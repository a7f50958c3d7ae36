/**
 * The cases every kind of engine must pass (engine_kind.case.ts), on a
 * client that `Client.connect`s to a controller (`startController`, in this
 * process) of Worker engines and of process engines: what the embedded
 * client's users rely on must hold through the controller too, checked by
 * the same cases. Each `Deno.test` of the suite has its own controller,
 * shared by its steps.
 */

import { engineKindCases } from "./engine_kind.case.ts";
import { ENGINE_KINDS } from "./helpers.ts";

for (const kind of ENGINE_KINDS) engineKindCases(kind, "connected");
