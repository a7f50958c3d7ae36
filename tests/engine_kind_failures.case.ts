/**
 * When tasks stop early, the same on every kind of engine (part of
 * `engineKindCases` in engine_kind.case.ts): `abort()` of a running task and
 * of a queued one, and an engine that dies under its tasks, which fail with
 * an EngineError while the engine comes back under its id; and what is not
 * a death: a busy loop that never yields publishes and keeps its heartbeat.
 *
 * How an engine dies differs by kind underneath (a Worker thread ends, a
 * process's task thread exits); what a user sees must not. What only one
 * kind has stays in its own file: a process killed with SIGKILL or stopped
 * with SIGSTOP from outside (tcp_engines_test.ts), a Worker's heap limit and
 * the restart policy (supervision_test.ts).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  EngineError,
  engineId,
  publishData,
  TaskAbortedError,
} from "../mod.ts";
import { holdUntilFile } from "./file_latch.ts";
import {
  assertRestartedAlone,
  type ClientSide,
  type EngineKind,
  engines,
  errorOf,
  guard,
  recordEvents,
  sleep,
  stillWorks,
  suiteKind,
  until,
  withClientOn,
  withTempDir,
} from "./helpers.ts";
import { exists, markRan } from "./markers.ts";
import { readPublications } from "./publication_checks.ts";

/** Generous bound for anything that should take well under a second. */
const HANG_MS = 20_000;

/**
 * Publishes `{ started: true }`, then waits until the file `die` exists and
 * ends its engine with `Deno.exit(9)`: an engine that dies mid-task, on any
 * kind of engine (capped at 20 s so that a broken test cannot hold one).
 */
async function dieWhenFile(die: string): Promise<string> {
  publishData({ started: true });
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    try {
      Deno.statSync(die);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 5));
      continue;
    }
    Deno.exit(9);
  }
  return "the die file never appeared";
}

/**
 * A busy synchronous loop that never yields: publishes a step every 50 ms
 * until `latch` exists (capped at 20 s). Returns the steps published.
 */
function busyPublishUntilFile(latch: string): number | string {
  const end = Date.now() + 20_000;
  let i = 0;
  let last = 0;
  for (;;) {
    const now = Date.now();
    if (now > end) return "latch never opened";
    if (now - last >= 50) {
      last = now;
      publishData({ i: i++ });
      try {
        Deno.statSync(latch);
        return i;
      } catch {
        // not yet
      }
    }
  }
}

/**
 * Registers the cases on tasks that stop early that every kind of engine
 * must pass: one `Deno.test` whose name starts with `kind`, on a client of
 * 2 engines of that kind that its steps share, restarted at once when one
 * dies.
 *
 * @example
 * ```ts ignore
 * import { failureCases } from "./engine_kind_failures.case.ts";
 * failureCases("process");
 * ```
 */
export function failureCases(
  kind: EngineKind,
  side: ClientSide = "embedded",
): void {
  Deno.test(`${suiteKind(kind, side)} engines: abort(), and engines that die under their tasks`, async (t) => {
    await withClientOn(side, {
      ...engines(kind, 2),
      restart: { maxRestarts: 100, withinMs: 60_000, backoffMs: 1 },
    }, async (client) => {
      assert.deepEqual(client.engines().map((e) => e.kind), [kind, kind]);
      const bothUp = () =>
        until(
          () =>
            client.ids.length === 2 &&
            client.engines().every((e) => e.state === "idle"),
          "both engines up and idle",
          HANG_MS,
        );

      await t.step(
        "abort() of a queued task and of a running one: TaskAbortedError; the aborted task never runs, the queue behind goes on",
        async () => {
          await withTempDir(async (dir) => {
            const view = client.view(0);
            const ran = `${dir}/ran`;
            const running = view.applyAsync(holdUntilFile, `${dir}/never`);
            const queued = view.applyAsync(markRan, ran);
            const kept = view.applyAsync(() => engineId);
            await until(
              () => running.data.started === true,
              "the task to start",
              HANG_MS,
            );
            assert.equal(running.metadata.status, "running");
            assert.equal(queued.metadata.status, "queued");

            await guard(queued.abort(), "abort() of the queued task", HANG_MS);
            assert.equal(
              queued.ready(),
              true,
              "an aborted queued task is done",
            );
            assert.equal(running.ready(), false);
            const eq = await errorOf(
              queued,
              "the aborted queued task",
              HANG_MS,
            );
            assert.ok(
              eq instanceof TaskAbortedError,
              `${eq.name}: ${eq.message}`,
            );
            assert.equal(eq.engineId, 0);
            assert.equal(eq.taskId, queued.taskIds[0]);
            assert.equal(queued.metadata.status, "aborted");

            await guard(
              running.abort(),
              "abort() of the running task",
              HANG_MS,
            );
            assert.equal(running.ready(), true);
            const er = await errorOf(
              running,
              "the aborted running task",
              HANG_MS,
            );
            assert.ok(
              er instanceof TaskAbortedError,
              `${er.name}: ${er.message}`,
            );
            assert.equal(er.engineId, 0);
            assert.equal(er.taskId, running.taskIds[0]);
            assert.equal(running.metadata.status, "aborted");
            assert.ok(running.metadata.error instanceof TaskAbortedError);

            assert.equal(await guard(kept, "the task behind", HANG_MS), 0);
            assert.equal(exists(ran), false, "the aborted queued task ran");
            await bothUp();
            assert.deepEqual(client.ids, [0, 1]);
          });
        },
      );

      await t.step(
        "a dying engine fails its tasks with EngineError",
        async () => {
          await bothUp();
          const dying = client.view(1).applyAsync(() => Deno.exit(3));
          const queued = client.view(1).applyAsync(() => "never");
          for (const ar of [dying, queued]) {
            const e = await errorOf(ar);
            assert.ok(e instanceof EngineError, `${e.name}: ${e.message}`);
            assert.equal(e.engineId, 1);
            assert.equal(e.taskId, ar.taskIds[0]);
            assert.match(e.reason, /exit/);
            assert.match(e.message, /engine 1 died/);
            assert.equal(ar.metadata.status, "error");
          }
          assert.equal(await client.view(0).applySync(() => engineId), 0);
          await stillWorks(client);
        },
      );

      await t.step(
        "an engine that dies mid-task: EngineError, the other engine's task goes on, restarted under its id",
        async () => {
          await bothUp();
          await withTempDir(async (dir) => {
            const rec = recordEvents(client);
            const restarts = client.engines().map((e) => e.restarts);
            const go = `${dir}/go`;
            const die = `${dir}/die`;
            const victim = client.view(0).applyAsync(dieWhenFile, die);
            const other = client.view(1).applyAsync(holdUntilFile, go);
            try {
              await until(
                () =>
                  victim.data.started === true && other.data.started === true,
                "both tasks to start",
                HANG_MS,
              );
              await Deno.writeTextFile(die, "");
              const e = await errorOf(
                victim,
                "the dying engine's task",
                HANG_MS,
              );
              assert.ok(e instanceof EngineError, `${e.name}: ${e.message}`);
              assert.equal(e.engineId, 0);
              assert.equal(e.taskId, victim.taskIds[0]);
              assert.match(e.reason, /\b9\b/);
              assert.equal(victim.metadata.status, "error");
              assert.equal(
                other.ready(),
                false,
                "the other engine's task ended",
              );
            } finally {
              await Deno.writeTextFile(go, "");
            }
            await assertRestartedAlone(client, rec, other, { restarts, kind }, {
              up: bothUp,
              ms: HANG_MS,
            });
            assert.equal(await client.view(0).applySync(() => engineId), 0);
            rec.stop();
          });
        },
      );
    });
  });

  Deno.test(`${suiteKind(kind, side)} engines: a busy loop publishes and keeps its heartbeat`, async () => {
    await withTempDir(async (dir) => {
      await withClientOn(
        side,
        { ...engines(kind, 1), heartbeatMs: 200 },
        async (client) => {
          const rec = recordEvents(client);
          const latch = `${dir}/go`;
          const ar = client.view(0).applyAsync(busyPublishUntilFile, latch);
          const { seen, reading } = readPublications(ar);
          try {
            await until(
              () => seen.length >= 3,
              "3 publications from the loop",
              HANG_MS,
            );
            // The loop goes on not yielding for 2 s: 10 heartbeat periods,
            // more than 3 times the 3 missed beats that would mean death.
            const from = seen.length;
            await sleep(2000);
            assert.equal(ar.ready(), false, "the loop ended by itself");
            assert.ok(
              seen.length > from,
              "no publication arrived during 2 s of the busy loop",
            );
            assert.equal(client.engines()[0].state, "busy");
          } finally {
            await Deno.writeTextFile(latch, "");
            await guard(reading, "the publication stream to end", HANG_MS);
          }
          const steps = await guard(ar, "the busy loop", HANG_MS);
          assert.equal(typeof steps, "number", String(steps));
          assert.ok(ar.successful());
          assert.ok(seen.slice(0, 3).every((s) => !s.ready));
          assert.equal(ar.data.i, (steps as number) - 1);
          assert.deepEqual(
            rec.events.filter((e) => e.type !== "registered"),
            [],
            "the busy engine was taken for dead",
          );
          assert.equal(client.engines()[0].restarts, 0);
          rec.stop();
        },
      );
    });
  });
}
