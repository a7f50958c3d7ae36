/**
 * The cases every kind of engine must pass (engine_kind.case.ts), on Worker
 * engines: threads of this process.
 */

import { engineKindCases } from "./engine_kind.case.ts";

engineKindCases("worker");
