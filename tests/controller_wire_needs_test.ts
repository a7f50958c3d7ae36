/**
 * A task's `needs` from a client that sends what no troupe client would:
 * the controller refuses that session (its check), and the cluster core
 * goes on for every other client: one bad need once crashed the scheduler
 * (an `item` of a null value) or left a batch half held (a `ready` that is
 * not a record), hanging other clients' tasks.
 */

import assert from "node:assert/strict";
import type { WireTaskEvent } from "../remote/wire.ts";
import { until, withController } from "./helpers.ts";
import { attach, task } from "./raw_wire_client.ts";

const BALANCED = { balanced: { retries: 0 } };
const NEEDS: [string, (dependency: number) => Record<string, unknown>][] = [
  ["an item of one value", (dependency) => ({
    args: [{ index: 0, tasks: [dependency], shape: "one", item: 0 }],
  })],
  ["values ready that are not a record", (dependency) => ({
    args: [{ index: 0, tasks: [dependency], shape: "one", ready: 5 }],
  })],
  ["an index outside the arguments", (dependency) => ({
    args: [{ index: 3e7, tasks: [dependency], shape: "one" }],
  })],
];

for (const [name, needs] of NEEDS) {
  Deno.test(`controller wire needs: ${name} closes its session, and the others' tasks run`, async () => {
    await withController(
      { id: "wire-needs", engines: { workers: 1 } },
      async (controller) => {
        const good = await attach(controller);
        const bad = await attach(controller);
        const first = good.attached.taskIdBase + 1;
        await good.send({
          t: "submit",
          tasks: [
            task(
              first,
              "async () => { await new Promise((r) => setTimeout(r, 100)); return null; }",
              [],
              BALANCED,
            ),
          ],
        });
        const base = bad.attached.taskIdBase;
        await bad.send({
          t: "submit",
          tasks: [
            task(base + 1, "() => null", [], BALANCED),
            {
              ...task(base + 2, "(x) => x", [null], BALANCED),
              needs: needs(base + 1) as never,
            },
          ],
        });
        await until(
          () => bad.closedWith !== undefined,
          "the bad session's close",
        );
        const closing = bad.got.find((m) => m.t === "closing");
        assert.ok(closing?.t === "closing");
        assert.match(closing.reason, /a "submit" message whose tasks is/);
        // The good client's dependent and later tasks still run.
        await good.send({
          t: "submit",
          tasks: [
            {
              ...task(first + 1, "(x) => [x]", [0], BALANCED),
              needs: { args: [{ index: 0, tasks: [first], shape: "one" }] },
            },
            task(first + 2, "() => 'plain ran'", [], BALANCED),
          ],
        });
        const outcome = async (id: number) => {
          const events = await good.finished(id, name);
          return (events.at(-1) as Extract<WireTaskEvent, { kind: "done" }>)
            .outcome;
        };
        assert.deepEqual(
          { ...await outcome(first + 1), started: 0, completed: 0 },
          { ok: true, value: [null], started: 0, completed: 0 },
        );
        const plain = await outcome(first + 2);
        assert.equal(plain.ok && plain.value, "plain ran");
        await good.close();
      },
    );
  });
}
