import assert from "node:assert/strict";
import { withTempDir } from "../tests/helpers.ts";
import { TASK_ID_BLOCK } from "../remote/wire.ts";
import { History } from "./history.ts";
import { notInHistory } from "./missing_task.ts";

Deno.test("missing task: above an earlier controller's client's ids it says the flush may have lost it; else purged or never submitted", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/history.db`;
    const before = History.open({ path, flushMs: 20 });
    const clientNo = before.nextClientNo();
    const base = clientNo * TASK_ID_BLOCK;
    for (const id of [base + 1, base + 2]) {
      before.submitted(
        {
          taskId: id,
          fn: { kind: "source", source: "() => 1" },
          args: [],
          placement: { engineId: 0 },
        },
        clientNo,
        Date.now(),
      );
      before.done(id, { ok: true, value: 1, started: 1, completed: 2 });
    }
    before.close();

    const history = History.open({ path, flushMs: 20 });
    try {
      assert.equal(history.clientsBefore, clientNo);
      const mine = history.nextClientNo();
      const lost = notInHistory(base + 3, "sim", history);
      assert.match(
        lost,
        new RegExp(
          `^task ${base + 3} is not in cluster sim's history: it is above ` +
            `every task id of client ${clientNo}, a client of an earlier ` +
            "controller: if it was submitted, the controller it was " +
            "submitted to was killed or crashed within 20 ms",
        ),
      );
      assert.match(lost, /its end may have reached the client that submitted/);
      // At or below the block's highest: purged (or cut), not lost in a flush.
      assert.equal(history.purge({ taskIds: [base + 2] }), 1);
      assert.match(
        notInHistory(base + 2, "sim", history),
        /: purged, past the history's limits \(maxTasks, maxAgeMs\), or never submitted$/,
      );
      // A client of this controller: all it submitted is known here.
      assert.match(
        notInHistory(mine * TASK_ID_BLOCK + 1, "sim", history),
        /or never submitted$/,
      );
      // Not a client's block at all.
      assert.match(notInHistory(7, "sim", history), /or never submitted$/);
    } finally {
      history.close();
    }
    return Promise.resolve();
  });
});
