import assert from "node:assert/strict";
import {
  ClientClosedError,
  engineId,
  RemoteError,
  TaskAbortedError,
  UnmetDependencyError,
} from "../mod.ts";
import {
  eachEngineKind,
  errorOf,
  guard,
  range,
  sleep,
  withClient,
} from "./helpers.ts";

const BOUND = 60_000;

eachEngineKind("dependencies", 2, async ({ t, client, side }) => {
  const lv = client.loadBalancedView();

  await t.step("a chain and a diamond pass values by future", async () => {
    const a = lv.applyAsync(async (x: number) => {
      await new Promise((r) => setTimeout(r, 50));
      return x + 1;
    }, 1);
    const b = lv.applyAsync((x: number) => x * 10, a);
    const c = lv.applyAsync((x: number) => x + 5, a);
    const d = lv.applyAsync((x: number, y: number) => x + y, b, c);
    assert.equal(await guard(d.get(), "the diamond", BOUND), 27);
    assert.equal(await b, 20);
  });

  await t.step("after a running task and after a finished one", async () => {
    const slow = lv.applyAsync(async () => {
      await new Promise((r) => setTimeout(r, 100));
      return Date.now();
    });
    const late = lv.with({ after: [slow] }).applyAsync(() => Date.now());
    const [ended, began] = [await slow, await guard(late.get(), "late", BOUND)];
    assert.ok(
      began >= ended,
      "a dependent started before its dependency ended",
    );
    const again = lv.with({ after: [slow] }).applyAsync(() => 3);
    assert.equal(await again, 3);
  });

  await t.step("follow lands where the followed task ran", async () => {
    for (const target of range(2)) {
      const first = client.view(target).applyAsync(async () => {
        await new Promise((r) => setTimeout(r, 30));
        return engineId;
      });
      const next = lv.with({ follow: [first] }).applyAsync(() => engineId);
      assert.equal(await guard(next.get(), "the follower", BOUND), target);
      const done = lv.with({ follow: [first] }).applyAsync(() => engineId);
      assert.equal(await done, target);
    }
    const zero = client.view(0).applyAsync(() => 0);
    const one = client.view(1).applyAsync(() => 1);
    const nowhere = lv.with({ follow: [zero, one] }).applyAsync(() => 2);
    const error = await errorOf(nowhere);
    assert.ok(error instanceof UnmetDependencyError, String(error));
    assert.match(error.message, /no engine is where every task it follows ran/);
    // "run" says where to run, and there is nowhere: the advice is to
    // follow one engine's tasks, never to pass "run".
    assert.match(error.message, /ar\.item\(i\)\), or drop follow/);
    assert.doesNotMatch(error.message, /to run it anyway/);
    const run = lv.with({ follow: [zero, one], onDependencyFailure: "run" });
    const still = await errorOf(run.applyAsync(() => 2));
    assert.ok(still instanceof UnmetDependencyError, String(still));
    assert.match(still.message, /no engine is where every task it follows/);
    assert.match(still.message, /or drop follow/);
    const never = lv.with({ signal: AbortSignal.abort() }).applyAsync(() => 3);
    await errorOf(never);
    const lost = await errorOf(
      lv.with({ follow: [never], onDependencyFailure: "run" })
        .applyAsync(() => 4),
    );
    assert.ok(lost instanceof UnmetDependencyError, String(lost));
    assert.match(lost.message, /never reached an engine; follow only tasks/);
  });

  await t.step(
    "a failed dependency fails the dependent, or runs it",
    async () => {
      const bad = lv.applyAsync(async () => {
        await new Promise((r) => setTimeout(r, 30));
        throw new RangeError("boom");
      });
      const after = lv.with({ after: [bad] }).applyAsync(() => 1);
      const anyway = lv.with({ after: [bad], onDependencyFailure: "run" })
        .applyAsync(() => 2);
      const arg = lv.with({ onDependencyFailure: "run" })
        .applyAsync((x: unknown) => x, bad);
      const error = await errorOf(after);
      assert.ok(error instanceof UnmetDependencyError, String(error));
      assert.equal(error.dependency, bad.taskIds[0]);
      assert.equal((error.cause as Error).name, "RemoteError");
      assert.match(error.message, /boom.*onDependencyFailure: "run"/);
      assert.equal(await guard(anyway.get(), "run anyway", BOUND), 2);
      const argError = await errorOf(arg);
      assert.ok(argError instanceof UnmetDependencyError);
      // Counted from 1, as the arguments' other errors count them.
      assert.match(argError.message, /argument 1 is the result of task/);
      // Failed already when the call comes: the same error, at once.
      const later = await errorOf(lv.applyAsync((x: unknown) => x, bad));
      assert.ok(later instanceof UnmetDependencyError);
      assert.equal(later.dependency, bad.taskIds[0]);
    },
  );

  await t.step(
    "abort while waiting, and aborting what others wait for",
    async () => {
      const gate = lv.applyAsync(async () => {
        await new Promise((r) => setTimeout(r, 5000));
        return 1;
      });
      const waiting = lv.applyAsync((x: number) => x, gate);
      const second = lv.with({ after: [waiting] }).applyAsync(() => 2);
      await sleep(50);
      assert.equal(waiting.metadata.status, "queued");
      // Both wait for a dependency: the queue status counts them.
      const status = await client.queueStatus();
      assert.ok(status.unassigned >= 2, JSON.stringify(status));
      await waiting.abort();
      assert.ok((await errorOf(waiting)) instanceof TaskAbortedError);
      const cascaded = await errorOf(second);
      assert.ok(cascaded instanceof UnmetDependencyError);
      assert.ok(cascaded.cause instanceof TaskAbortedError);
      const other = lv.with({ after: [gate] }).applyAsync(() => 3);
      await gate.abort();
      const unmet = await errorOf(other);
      assert.ok(unmet instanceof UnmetDependencyError);
      assert.ok(unmet.cause instanceof TaskAbortedError);
      // Aborting a running task restarts its engine: wait for it back.
      await client.waitForEngines(2, { timeoutMs: BOUND });
    },
  );

  await t.step("an item of a map as a dependency", async () => {
    const chunks = lv.mapAsync(
      async (x: number) => {
        await new Promise((r) => setTimeout(r, x));
        if (x > 100) throw new RangeError("too slow");
        return engineId;
      },
      [30, 150],
      { chunkSize: 1 },
    );
    const near = lv.with({ follow: [chunks.item(0)] }).applyAsync(() =>
      engineId
    );
    const far = lv.with({ after: [chunks.item(1)] }).applyAsync(() => 1);
    assert.equal(
      await guard(near.get(), "the item's follower", BOUND),
      await chunks.item(0),
    );
    const error = await errorOf(far);
    assert.ok(error instanceof UnmetDependencyError, String(error));
    assert.equal(error.dependency, chunks.taskIds[1]);
  });

  await t.step("10,000 dependents of one task", async () => {
    const root = lv.applyAsync(async () => {
      await new Promise((r) => setTimeout(r, 50));
      return 2;
    });
    const dependents = range(10_000).map((i) =>
      lv.applyAsync((x: number, i: number) => x + i, root, i)
    );
    const values = await guard(
      Promise.all(dependents.map((ar) => ar.get())),
      "10,000 dependents",
      120_000,
    );
    assert.deepEqual(values, range(10_000).map((i) => i + 2));
  });

  if (side === "connected") {
    await t.step(
      "a dependency the controller ended before the client knew",
      async () => {
        const first = lv.applyAsync(() => 5);
        await first;
        // A result the client has not heard end yet: its replay is on its
        // way, but the controller's core let the task go long ago.
        const again = client.getResult(first.taskIds);
        assert.equal(again.ready(), false);
        const doubled = lv.applyAsync(
          (v: unknown[]) => (v[0] as number) * 2,
          again,
        );
        const after = lv.with({ after: [client.getResult(first.taskIds)] })
          .applyAsync(() => 7);
        assert.equal(
          await guard(doubled.get(), "the late dependent", BOUND),
          10,
        );
        assert.equal(await after, 7);
        // A failed one: the history gives back its error as it was, so the
        // dependent's cause is the dependency's own class and fields.
        const bad = lv.applyAsync(() => {
          throw new RangeError("late boom");
        });
        await errorOf(bad);
        const badAgain = client.getResult(bad.taskIds);
        const unmet = await errorOf(
          lv.with({ after: [badAgain] }).applyAsync(() => 8),
        );
        assert.ok(unmet instanceof UnmetDependencyError, String(unmet));
        assert.equal(unmet.dependency, bad.taskIds[0]);
        assert.ok(unmet.cause instanceof RemoteError, String(unmet.cause));
        assert.equal(unmet.cause.remoteName, "RangeError");
        assert.equal(unmet.cause.taskId, bad.taskIds[0]);
      },
    );
  }
});

Deno.test("dependencies: closing the client fails the tasks that wait", async () => {
  await withClient({ workers: 1 }, async (client) => {
    const lv = client.loadBalancedView();
    const slow = lv.applyAsync(async () => {
      await new Promise((r) => setTimeout(r, 5000));
      return 1;
    });
    const waiting = lv.applyAsync((x: number) => x, slow);
    await client.close();
    const error = await errorOf(waiting);
    assert.ok(error instanceof ClientClosedError, String(error));
    assert.ok((await errorOf(slow)) instanceof Error);
  });
});
