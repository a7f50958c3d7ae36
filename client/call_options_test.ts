import assert from "node:assert/strict";
import { checkCallOptions } from "./call_options.ts";
import { AsyncResult, TaskRecord } from "./async_result.ts";

/** A finished result of one task, made without a cluster. */
function finished(): AsyncResult<number, true> {
  return new AsyncResult({
    single: true,
    start: (listener) => {
      const record = new TaskRecord(0, 1, listener);
      record.done({ ok: true, value: 1, started: 0, completed: 1 });
      return [record];
    },
    abort() {},
  });
}

Deno.test("call options: what was given is named properly", async (t) => {
  await t.step("one result where a list goes: says to wrap it", () => {
    for (const name of ["after", "follow"]) {
      assert.throws(
        () =>
          checkCallOptions("with options", { [name]: finished() }, "balanced"),
        new RegExp(
          `^TypeError: ${name} in with options must be an array of ` +
            `AsyncResults, got one, not in an array: write ${name}: \\[ar\\]$`,
        ),
      );
    }
  });

  await t.step("an object's type takes its article", () => {
    assert.throws(
      () => checkCallOptions("with options", { after: new Map() }, "balanced"),
      /got a Map$/,
    );
    assert.throws(
      () =>
        checkCallOptions("with options", { follow: [new Error()] }, "balanced"),
      /follow\[0\] in with options must be an AsyncResult .* got an Error$/,
    );
  });
});
