/**
 * The cases every kind of engine must pass (engine_kind.case.ts), on
 * process engines: `deno` processes that the client starts and talks to
 * over TCP on 127.0.0.1.
 */

import { engineKindCases } from "./engine_kind.case.ts";

engineKindCases("process");
