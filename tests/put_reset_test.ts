/**
 * Put values across the end of an engine's task thread: tasks that take a
 * ref, queued or sent ahead behind a task that is aborted (a process
 * engine replaces its task thread, a Worker engine is restarted), get
 * their values from the new thread and run; none fails with a put error.
 */

import assert from "node:assert/strict";
import { TaskAbortedError } from "../mod.ts";
import {
  eachEngineKind,
  errorOf,
  guard,
  RESTART_AT_ONCE,
  sleep,
  until,
} from "./helpers.ts";

/** How many times the race is run: each a fresh thread, sent the value. */
const ROUNDS = 6;

eachEngineKind("client.put across a reset", 1, async ({ t, client }) => {
  const one = client.view(0);

  await t.step("tasks behind an aborted one get their values", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const ref = client.put([round, "value"]);
      // The first run of the thread's life carries the value; the thread
      // that took it in is then ended under the tasks that need it.
      assert.equal(
        await guard(one.applyAsync((a: unknown[]) => a[0], ref), "warm"),
        round,
      );
      // Pending, not spinning: a Worker that Deno 2.9.6 terminates while
      // it spins right after posting keeps its thread spinning (deno#35657).
      const hang = one.applyAsync(() => new Promise<never>(() => {}));
      const behind = [0, 1, 2].map((i) =>
        one.applyAsync((a: unknown[], k: number) => `${a[1]} ${k}`, ref, i)
      );
      await until(
        () => hang.metadata.status === "running",
        "the hanging task to start",
      );
      // Half the rounds abort at once, half after the tasks were sent on.
      if (round % 2 === 1) await sleep(5);
      hang.abort();
      const error = await errorOf(hang, "the aborted task", 30_000);
      assert.ok(error instanceof TaskAbortedError, `${error}`);
      for (const [i, ar] of behind.entries()) {
        assert.equal(
          await guard(ar, `round ${round}, task ${i}`, 30_000),
          `value ${i}`,
        );
      }
      ref.release();
    }
  });

  await t.step("a task that takes a ref, aborted, then one more", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const ref = client.put({ round });
      const hang = one.applyAsync(
        (v: { round: number }) => new Promise<never>(() => void v.round),
        ref,
      );
      const next = one.applyAsync((v: { round: number }) => v.round, ref);
      await until(
        () => hang.metadata.status === "running",
        "the hanging task to start",
      );
      hang.abort();
      await errorOf(hang, "the aborted task", 30_000);
      assert.equal(await guard(next, `round ${round}`, 30_000), round);
      ref.release();
    }
  });
}, { restart: RESTART_AT_ONCE });
