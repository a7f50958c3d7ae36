/**
 * A result as an argument or in `after`/`follow` must be one of this
 * client's cluster's tasks: embedded clients each number tasks from 1, so
 * another client's result would name one of this client's own tasks and
 * silently take its value. On one controller task ids are global: a result
 * of another client of it (its own, or through `getResult`) is honest.
 */

import assert from "node:assert/strict";
import { Client } from "../mod.ts";
import { startController } from "../controller/controller.ts";
import { withController } from "./client_sides.ts";
import { ENGINE_KINDS, engines, guard, until } from "./helpers.ts";

const slow = async (value: string) => {
  await new Promise((resolve) => setTimeout(resolve, 200));
  return value;
};

for (const kind of ENGINE_KINDS) {
  Deno.test(`dependencies: a result of another embedded client is refused (${kind})`, async () => {
    const a = await Client.start(engines(kind, 1));
    const b = await Client.start(engines(kind, 1));
    try {
      const fromA = a.loadBalancedView().applyAsync(slow, "A's value");
      const mapA = a.loadBalancedView().mapAsync((x: number) => [x], [1, 2]);
      // B's task 1: the one a missing check waited on instead.
      const ownB = b.loadBalancedView().applyAsync(slow, "B's value");
      const lb = b.loadBalancedView();
      const attempts: [string, () => unknown][] = [
        ["argument 1", () => lb.applyAsync((x: string) => x, fromA)],
        [
          "argument 2",
          () => lb.applyAsync((_: number, x: unknown) => x, 0, mapA.item(1)),
        ],
        ["argument 1", () => b.view(0).applyAsync((x: string) => x, fromA)],
        ["after", () => lb.with({ after: [fromA] }).applyAsync(() => 1)],
        ["follow", () => lb.with({ follow: [fromA] }).applyAsync(() => 1)],
      ];
      for (const [what, attempt] of attempts) {
        assert.throws(attempt, (error: Error) => {
          assert.ok(error instanceof TypeError, what);
          assert.match(
            error.message,
            new RegExp(
              `^${what} is an AsyncResult that belongs to another client: ` +
                ".*Await it and pass its value",
            ),
          );
          return true;
        });
      }
      // Its own results still are dependencies, of either view.
      const ownView = b.view(0).applyAsync(() => "on 0");
      const used = lb.with({ after: [ownView] }).applyAsync(
        (x: string, y: string) => `${x} ${y}`,
        ownB,
        ownView,
      );
      assert.equal(await guard(used, "B's dependent"), "B's value on 0");
      assert.equal(await guard(fromA, "A's task"), "A's value");
      assert.deepEqual(await guard(mapA, "A's map"), [[1], [2]]);
    } finally {
      await a.close();
      await b.close();
    }
  });
}

Deno.test("dependencies: on one controller another client's result is one of its tasks; another controller's is refused", async () => {
  const quiet = { log: () => {} };
  await withController(
    { id: "home-1", engines: { workers: 1 } },
    async (c1) => {
      // Not withController: it asserts that no engine thread outlives it,
      // and c1's does.
      const c2 = await guard(
        startController({
          id: "home-2",
          engines: { workers: 1 },
          log: () => {},
        }),
        "the second controller to start",
      );
      const a = await guard(Client.connect(c1.clientInfo, quiet), "a");
      const b = await guard(Client.connect(c1.clientInfo, quiet), "b");
      const other = await guard(Client.connect(c2.clientInfo, quiet), "other");
      try {
        // B's first task: the id a missing check would confuse with A's.
        const ownB = b.loadBalancedView().applyAsync(slow, "B's value");
        const fromA = a.loadBalancedView().applyAsync(slow, "A's value");
        // Two connections: B's call may reach the controller before A's,
        // where A's task is not submitted yet. Started, it is there (and
        // ended, the history still has it).
        await until(
          () => fromA.metadata.started !== null,
          "A's task to start",
        );
        const lb = b.loadBalancedView();
        const direct = lb.applyAsync((x: string) => `got ${x}`, fromA);
        const looked = b.getResult(fromA.taskIds);
        const viaLookup = lb.with({ after: [looked] }).applyAsync(
          (x: unknown[]) => `got ${x}`,
          looked,
        );
        assert.equal(
          await guard(direct, "A's result as B's argument"),
          "got A's value",
        );
        assert.equal(
          await guard(viaLookup, "a looked-up result"),
          "got A's value",
        );
        assert.equal(await guard(ownB, "B's task"), "B's value");
        assert.throws(
          () => other.loadBalancedView().applyAsync((x: string) => x, fromA),
          TypeError,
          "argument 1 is an AsyncResult that belongs to another client",
        );
      } finally {
        await guard(a.close(), "a to detach");
        await guard(b.close(), "b to detach");
        await guard(other.close(), "other to detach");
        await guard(c2.stop(), "the second controller to stop", 30_000);
      }
    },
  );
});
