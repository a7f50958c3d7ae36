/**
 * A call's `signal`: the reason it was aborted with is the `cause` of its
 * tasks' `TaskAbortedError`, whether they were queued, running or not yet
 * submitted, and a direct view's namespace calls reject with one such
 * error, on each engine kind and client side.
 */

import assert from "node:assert/strict";
import { CompositeError, TaskAbortedError } from "../mod.ts";
import { eachEngineKind, errorOf, until } from "./helpers.ts";
import { fileLatch, holdUntilFile } from "./file_latch.ts";

eachEngineKind("a call's signal", 2, async ({ t, client, dir }) => {
  const lv = client.loadBalancedView();

  await t.step("a running task's error has the reason as cause", async () => {
    const go = fileLatch(dir, "running");
    const stop = new AbortController();
    const held = client.view(0).with({ signal: stop.signal })
      .applyAsync(holdUntilFile, go.path);
    await until(() => held.data?.started === true, "the task to start");
    const reason = new Error("user pressed stop");
    stop.abort(reason);
    const error = await errorOf(held, "the aborted task", 20_000);
    go.open();
    assert.ok(error instanceof TaskAbortedError, String(error));
    assert.equal(error.cause, reason);
    assert.equal(error.engineId, 0);
    assert.match(
      error.message,
      /^task \d+ on engine 0 was aborted by its signal \(user pressed stop\)$/,
    );
  });

  await t.step("a queued task's too, and a timeout says so", async () => {
    const go = fileLatch(dir, "queued");
    const blockers = [0, 1].map((id) =>
      client.view(id).applyAsync(holdUntilFile, go.path)
    );
    try {
      for (const b of blockers) {
        await until(() => b.data?.started === true, "a blocker to start");
      }
      const stop = new AbortController();
      const queued = lv.with({ signal: stop.signal }).applyAsync(() => 1);
      stop.abort("the user left");
      const error = await errorOf(queued, "the queued task");
      assert.ok(error instanceof TaskAbortedError, String(error));
      assert.equal(error.cause, "the user left");
      assert.match(
        error.message,
        /was aborted by its signal.*\(the user left\)/,
      );
      const timed = lv.with({ signal: AbortSignal.timeout(20) })
        .applyAsync(() => 2);
      const late = await errorOf(timed, "the task whose signal timed out");
      assert.ok(late instanceof TaskAbortedError, String(late));
      assert.equal((late.cause as Error).name, "TimeoutError");
      assert.match(late.message, /was aborted.*: its signal timed out$/);
    } finally {
      go.open();
    }
    for (const b of blockers) await b;
  });

  await t.step("a signal aborted before the call: the same words", async () => {
    const reason = new Error("not now");
    const error = await errorOf(
      lv.with({ signal: AbortSignal.abort(reason) }).applyAsync(() => 1),
    );
    assert.ok(error instanceof TaskAbortedError, String(error));
    assert.equal(error.cause, reason);
    assert.match(error.message, /aborted by its signal .*\(not now\)$/);
  });

  await t.step("namespace calls reject with one TaskAbortedError", async () => {
    const reason = new Error("cancelled");
    const dv = client.view().with({ signal: AbortSignal.abort(reason) });
    const calls: [string, () => Promise<unknown>][] = [
      ["push", () => dv.push({ z: 1 })],
      ["set", () => dv.set("z", 1)],
      ["pull", () => dv.pull("z")],
      ["get", () => dv.get("z")],
      ["execute", () => dv.execute("1")],
      ["scatter", () => dv.scatter("s", [1, 2])],
      ["gather", () => dv.gather("s")],
    ];
    for (const [name, call] of calls) {
      const error = await errorOf(call(), name);
      assert.ok(!(error instanceof CompositeError), `${name}: ${error}`);
      assert.ok(error instanceof TaskAbortedError, `${name}: ${error}`);
      assert.equal(error.cause, reason, name);
    }
    // Nothing was sent: no engine has z.
    const missing = await errorOf(client.view(0).pull("z"), "pull z");
    assert.match(String(missing), /z/);
  });
});
