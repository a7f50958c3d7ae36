import assert from "node:assert/strict";
import type { EngineEvent } from "../mod.ts";
import { withClient } from "./helpers.ts";

Deno.test("ClientOptions.onEngineEvent hears the engines register", async () => {
  const events: EngineEvent[] = [];
  await withClient(
    { workers: 2, onEngineEvent: (event) => events.push(event) },
    (client) => {
      assert.deepEqual(
        events.map((e) => [e.type, e.engineId]).sort(),
        [["registered", 0], ["registered", 1]],
      );
      assert.deepEqual(client.ids, [0, 1]);
      return Promise.resolve();
    },
  );
});
