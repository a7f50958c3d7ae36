/**
 * `wallTime` of a result looked up from the controller's history
 * (`getResult`, `resume`): from the history's submission to the last end,
 * not from the lookup. A connected client's only (the history is the
 * controller's), on both engine kinds.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Client, TaskMetadata } from "../mod.ts";
import { withClientOn } from "./client_sides.ts";
import { ENGINE_KINDS, engines, guard, sleep } from "./helpers.ts";

const HELD_MS = 150;
const LATER_MS = 400;

for (const kind of ENGINE_KINDS) {
  Deno.test(`wallTime of getResult and resume counts from the submission, on connected ${kind} engines`, async () => {
    await withClientOn(
      "connected",
      engines(kind, 2),
      async (client: Client) => {
        const lv = client.loadBalancedView();
        const ar = lv.mapAsync(
          async (ms: number) => {
            await new Promise((r) => setTimeout(r, ms));
            return ms;
          },
          [HELD_MS, HELD_MS],
          { chunkSize: 1 },
        );
        await guard(ar, "the map");
        assert.ok(ar.wallTime! >= HELD_MS, `live wallTime ${ar.wallTime}`);
        // Looked up well after the end: a count from the lookup would be
        // about 0, one from the submission is at least the task's time.
        await sleep(LATER_MS);
        const again = client.getResult(ar.taskIds);
        // Per task, each a chunk of one item.
        assert.deepEqual(await guard(again, "getResult"), [[HELD_MS], [
          HELD_MS,
        ]]);
        const resumed = client.resume(ar.toJSON());
        assert.deepEqual(await guard(resumed, "resume"), [HELD_MS, HELD_MS]);
        for (
          const [name, found] of [["getResult", again], [
            "resume",
            resumed,
          ]] as const
        ) {
          const wall = found.wallTime!;
          assert.ok(wall >= HELD_MS, `${name}'s wallTime ${wall} < ${HELD_MS}`);
          assert.ok(
            wall < ar.wallTime! + LATER_MS,
            `${name}'s wallTime ${wall} counts past the end (live ${ar.wallTime})`,
          );
          // A map has one record per chunk: metadata is a list.
          (found.metadata as TaskMetadata[]).forEach((m, i) =>
            assert.ok(
              m.submitted.getTime() <=
                (ar.metadata as TaskMetadata[])[i].completed!.getTime(),
              `${name}'s task ${i} says it was submitted at the lookup`,
            )
          );
        }
      },
    );
  });
}
