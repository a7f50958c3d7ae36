import assert from "node:assert/strict";
import { TaskRecord } from "./task_record.ts";

const quiet = { published() {}, finished() {} };

Deno.test("TaskRecord.runTime: one clock for both ends, or none", async (t) => {
  await t.step("the engine's ends, to the microsecond", () => {
    const record = new TaskRecord(0, 1, quiet);
    record.started();
    assert.equal(record.runTime, undefined); // still running
    record.done({ ok: true, value: 1, started: 1000.25, completed: 1012.75 });
    assert.equal(record.runTime, 12.5);
  });

  await t.step("the client's ends when the engine said none", () => {
    const record = new TaskRecord(0, 2, quiet);
    record.started();
    record.done({ ok: false, error: new Error("the engine died") });
    assert.ok(record.runTime! >= 0 && record.runTime! < 10_000);
  });

  await t.step("never started: no run time", () => {
    const record = new TaskRecord(0, 3, quiet);
    record.done({ ok: false, error: new Error("lost before it ran") });
    assert.equal(record.runTime, undefined);
  });

  await t.step("one end by the engine's clock only: unknown", () => {
    const record = new TaskRecord(0, 4, quiet);
    record.started();
    record.done({ ok: false, error: new Error("half"), started: 5 });
    assert.equal(record.runTime, undefined);
  });
});
