/**
 * What tasks give back, the same on every kind of engine (part of
 * `engineKindCases` in engine_kind.case.ts): results and `ar.data`,
 * publications as they arrive, captured stdout and stderr, task errors,
 * and engineId in scope. Values crossing: engine_kind_values.case.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  CompositeError,
  engineId,
  type Publication,
  RemoteError,
} from "../mod.ts";
import {
  type ClientSide,
  type EngineKind,
  engines,
  errorOf,
  guard,
  suiteKind,
  until,
  withClientOn,
  withTempDir,
} from "./helpers.ts";
import { readPublications } from "./publication_checks.ts";
import { latchedSimulation, publishIt, simulationLoop } from "./seed_tasks.ts";

/** Generous bound for anything that should take well under a second. */
const HANG_MS = 20_000;

// ------------------------------------------------------------ the cases

/**
 * Registers the cases on what tasks give back that every kind of engine
 * must pass: one `Deno.test` whose name starts with `kind`, on a client of
 * 2 engines of that kind that its steps share.
 *
 * @example
 * ```ts ignore
 * import { taskCases } from "./engine_kind_tasks.case.ts";
 * taskCases("worker");
 * ```
 */
export function taskCases(
  kind: EngineKind,
  side: ClientSide = "embedded",
): void {
  Deno.test(`${suiteKind(kind, side)} engines: results, publications, output, errors`, async (t) => {
    await withClientOn(side, engines(kind, 2), async (client) => {
      assert.deepEqual(client.ids, [0, 1]);
      assert.deepEqual(client.engines().map((e) => e.kind), [kind, kind]);
      const dv = client.view();

      await t.step("publishIt: ar.data is [{a:'hi'}, {a:'hi'}]", async () => {
        const ar = dv.applyAsync(publishIt);
        assert.deepEqual(await guard(ar, "publishIt", HANG_MS), [
          undefined,
          undefined,
        ]);
        assert.deepEqual(ar.data, [{ a: "hi" }, { a: "hi" }]);
        assert.ok(ar.successful());
      });

      await t.step(
        "the simulation loop: ar.data holds the array and the final i",
        async () => {
          const steps = 5;
          const ar = dv.applyAsync(simulationLoop, steps, 10);
          const seen: Publication[] = [];
          await guard(
            (async () => {
              for await (const p of ar.publications()) seen.push(p);
            })(),
            "the publication stream",
            HANG_MS,
          );
          await guard(ar, "the simulation loop", HANG_MS);
          for (const id of [0, 1]) {
            const data = ar.data[id];
            assert.ok(data.a instanceof Float64Array, String(data.a));
            assert.equal((data.a as Float64Array).length, 20);
            for (const x of data.a as Float64Array) assert.ok(x >= 0 && x < 1);
            assert.equal(data.i, steps - 1);
            // Never reordered: this engine's steps arrive in order. Under
            // pressure unsent publications may merge, so some steps may be
            // skipped, but never the last.
            const is = seen.filter((p) => p.engineId === id).map((p) =>
              p.data.i as number
            );
            assert.ok(is.length >= 1, `no publication from engine ${id}`);
            assert.deepEqual(is, [...is].sort((a, b) => a - b));
            assert.equal(is.at(-1), steps - 1);
            const seqs = seen.filter((p) => p.engineId === id).map((p) =>
              p.seq
            );
            assert.deepEqual(seqs, [...new Set(seqs)].sort((a, b) => a - b));
          }
        },
      );

      await t.step("publications() streams while the loop runs", async () => {
        await withTempDir(async (dir) => {
          const latch = `${dir}/go`;
          const ar = dv.applyAsync(latchedSimulation, 3, latch);
          const { seen, reading } = readPublications(ar);
          try {
            await until(
              () => new Set(seen.map((s) => s.p.engineId)).size === 2,
              "step 0 from both engines",
              HANG_MS,
            );
            assert.equal(ar.ready(), false);
            for (const id of [0, 1]) {
              assert.equal(ar.data[id].i, 0);
              assert.ok(ar.data[id].a instanceof Float64Array);
            }
            assert.ok(seen.every((s) => !s.ready));
          } finally {
            await Deno.writeTextFile(latch, "");
            await guard(reading, "the publication stream to end", HANG_MS);
          }
          assert.deepEqual(await guard(ar, "the latched loop", HANG_MS), [
            "done",
            "done",
          ]);
          assert.deepEqual(ar.data.map((d) => d.i), [2, 2]);
        });
      });

      await t.step("stdout and stderr are captured per engine", async () => {
        const ar = dv.applyAsync(() => {
          console.log("out from", engineId);
          console.error("err from", engineId);
        });
        await guard(ar, "printing task", HANG_MS);
        assert.deepEqual(ar.stdout, ["out from 0\n", "out from 1\n"]);
        assert.deepEqual(ar.stderr, ["err from 0\n", "err from 1\n"]);
      });

      await t.step("stdout and stderr capture console.* per task", async () => {
        const ar = client.view().applyAsync(async () => {
          console.log("out", engineId);
          console.info({ a: 1 });
          console.debug("debug");
          console.error("err", engineId);
          console.warn("warn");
          await new Promise((r) => setTimeout(r, 1));
          console.log("after await");
          return engineId;
        });
        await ar;
        ar.stdout.forEach((out, id) => {
          assert.equal(out, `out ${id}\n{ a: 1 }\ndebug\nafter await\n`);
        });
        ar.stderr.forEach((err, id) => assert.equal(err, `err ${id}\nwarn\n`));
        // the next task on the same engine starts with empty output
        const next = client.view(0).applyAsync(() => 1);
        await next;
        assert.equal(next.stdout, "");
        assert.equal(next.stderr, "");
      });

      await t.step(
        "a task that throws: RemoteError, CompositeError",
        async () => {
          const one = await errorOf(
            client.view(1).applyAsync(() => {
              throw new TypeError("boom on a process");
            }),
            "a task that throws on engine 1",
            HANG_MS,
          );
          assert.ok(one instanceof RemoteError, `${one.name}: ${one.message}`);
          assert.equal(one.engineId, 1);
          assert.equal(one.remoteName, "TypeError");
          assert.equal(one.remoteMessage, "boom on a process");
          assert.match(one.remoteStack, /boom on a process/);

          const all = await errorOf(
            dv.applyAsync(() => {
              if (engineId === 1) throw new RangeError(`bad ${engineId}`);
              return "fine";
            }),
            "a task that throws on engine 1 of 2",
            HANG_MS,
          );
          assert.ok(
            all instanceof CompositeError,
            `${all.name}: ${all.message}`,
          );
          assert.equal(all.errors.length, 1);
          assert.deepEqual(all.results, ["fine", undefined]);
          const inner = all.errors[0];
          assert.ok(inner instanceof RemoteError);
          assert.equal(inner.engineId, 1);
          assert.equal(inner.remoteName, "RangeError");
          assert.match(all.message, /engine 1/);

          const both = await errorOf(
            dv.applyAsync(() => {
              throw new Error(`fail ${engineId}`);
            }),
            "a task that throws on both engines",
            HANG_MS,
          );
          assert.ok(both instanceof CompositeError);
          assert.deepEqual(
            both.errors.map((e) => (e as RemoteError).remoteMessage),
            ["fail 0", "fail 1"],
          );
          // The engines are still fine.
          assert.deepEqual(client.engines().map((e) => e.restarts), [0, 0]);
        },
      );

      await t.step("engineId is in scope", async () => {
        assert.deepEqual(
          await guard(dv.applyAsync(() => engineId), "ids", HANG_MS),
          [0, 1],
        );
        assert.equal(
          await guard(client.view(1).applyAsync(() => engineId), "1", HANG_MS),
          1,
        );
      });
    });
  });
}
