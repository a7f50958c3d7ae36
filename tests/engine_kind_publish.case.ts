/**
 * publishData end to end, the same on every kind of engine (part of
 * `engineKindCases` in engine_kind.case.ts): `ar.data` per engine and merged
 * key by key, live while a task runs, a flood that merges, typed arrays,
 * `ar.publications()`, the registry, and bad input. Flow control measured
 * against a blocked client thread (SharedArrayBuffer latches, which reach
 * Worker engines only) stays in publish_test.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  engineId,
  type Publication,
  publishData,
  RemoteError,
} from "../mod.ts";
import {
  type ClientSide,
  collect,
  type EngineKind,
  engines,
  guard,
  sleep,
  suiteKind,
  withClientOn,
} from "./helpers.ts";
import {
  assertPublication,
  assertStrictlyIncreasing,
} from "./publication_checks.ts";
import { publishIt } from "./seed_tasks.ts";

/** Longest a well-behaved step may wait for something before failing. */
const HANG_MS = 30_000;

function isRemote(pattern: RegExp, name = "TypeError") {
  return (error: unknown) => {
    assert.ok(error instanceof RemoteError, `not a RemoteError: ${error}`);
    assert.equal(error.remoteName, name);
    assert.match(error.remoteMessage, pattern);
    assert.match(error.message, pattern);
    return true;
  };
}

/**
 * Registers the cases on publishData that every kind of engine must pass:
 * one `Deno.test` whose name starts with `kind`, on a client of 2 engines of
 * that kind that its steps share.
 *
 * @example
 * ```ts ignore
 * import { publishCases } from "./engine_kind_publish.case.ts";
 * publishCases("worker");
 * ```
 */
export function publishCases(
  kind: EngineKind,
  side: ClientSide = "embedded",
): void {
  Deno.test(`${suiteKind(kind, side)} engines: publishData, ar.data, publications(), the registry`, async (t) => {
    await withClientOn(side, engines(kind, 2), async (client) => {
      assert.deepEqual(client.ids, [0, 1]);

      await t.step(
        "seed: publishIt on every engine, one dict per engine",
        async () => {
          const ar = client.view().applyAsync(publishIt);
          assert.deepEqual(await ar, [undefined, undefined]);
          assert.deepEqual(ar.data, [{ a: "hi" }, { a: "hi" }]);

          const one = client.view(1).applyAsync(publishIt);
          await one;
          assert.deepEqual(one.data, { a: "hi" });

          // Shipped functions see their own engine's id.
          assert.deepEqual(await client.view().applyAsync(() => engineId), [
            0,
            1,
          ]);
        },
      );

      await t.step("ar.data merges key by key, as dict.update", async () => {
        const ar = client.view(0).applyAsync(() => {
          publishData({ a: 1 });
          publishData({ b: 2 });
          publishData({ a: 3 });
        });
        await ar;
        assert.deepEqual(ar.data, { a: 3, b: 2 });

        // Later tasks on the same engine publish other things: ar.data stays.
        const later = client.view(0).applyAsync(() => {
          publishData({ a: "later", c: 1 });
        });
        await later;
        const nothing = client.view(0).applyAsync(() => 42);
        assert.equal(await nothing, 42);
        assert.deepEqual(ar.data, { a: 3, b: 2 });
        assert.deepEqual(later.data, { a: "later", c: 1 });
        assert.deepEqual(nothing.data, {});

        // Per engine, in target order.
        const each = client.view([1, 0]).applyAsync(() => {
          publishData({ who: engineId });
          publishData({ twice: engineId * 2 });
        });
        await each;
        assert.deepEqual(each.data, [{ who: 1, twice: 2 }, {
          who: 0,
          twice: 0,
        }]);

        // What a failing task published before it threw is kept.
        const fails = client.view(1).applyAsync(() => {
          publishData({ before: true });
          throw new Error("boom");
        });
        await assert.rejects(fails.get(), isRemote(/boom/, "Error"));
        assert.deepEqual(fails.data, { before: true });
      });

      await t.step("ar.data is live while an async task runs", async () => {
        const ar = client.view(1).applyAsync(async () => {
          let i = 0;
          for (; i < 20; i++) {
            publishData({ i });
            await new Promise((r) => setTimeout(r, 20));
          }
          return i - 1;
        });
        const seen = new Set<number>();
        const deadline = Date.now() + HANG_MS;
        while (!ar.ready() && Date.now() < deadline) {
          const i = ar.data.i;
          if (typeof i === "number") seen.add(i);
          await sleep(5);
        }
        assert.ok(seen.size >= 2, `saw only ${[...seen]} while it ran`);
        assert.equal(await ar, 19);
        assert.deepEqual(ar.data, { i: 19 });
      });

      await t.step(
        "a flood of publications merges: bounded, ordered, newest value last",
        async () => {
          const calls = 300_000;
          const ar = client.view(0).applyAsync((n: number) => {
            for (let i = 0; i < n; i++) publishData({ i, x: 2 * i });
            return n;
          }, calls);
          const seqs: number[] = [];
          let last: Publication | undefined;
          for await (const p of ar.publications()) {
            seqs.push(p.seq);
            last = p;
            // A reader that sometimes stalls, as a busy client does: the
            // engine's window fills up and it has to merge.
            if (p.seq % 256 === 0) {
              const until = performance.now() + 2;
              while (performance.now() < until) { /* stall */ }
            }
          }
          assert.equal(await guard(ar.get(), "the flood", HANG_MS), calls);
          assert.ok(seqs.length < calls, `${seqs.length} of ${calls} arrived`);
          assertStrictlyIncreasing(seqs, "engine 0");
          assert.deepEqual(last?.data, { i: calls - 1, x: 2 * (calls - 1) });
          assert.deepEqual(ar.data, { i: calls - 1, x: 2 * (calls - 1) });
          assert.deepEqual(client.registry.latest(0)?.data, last?.data);
        },
      );

      await t.step(
        "typed arrays arrive as the same type, as they were",
        async () => {
          const ar = client.view(0).applyAsync(() => {
            const f64 = new Float64Array([0.5, 1.5, -2]);
            const i32 = new Int32Array([1, -2, 2147483647]);
            const u8 = new Uint8Array([0, 128, 255]);
            // Over the 64 KiB transfer threshold.
            const bigF64 = new Float64Array(20_000).map((_, k) => k / 2);
            const bigI32 = new Int32Array(40_000).map((_, k) => -k);
            const bigU8 = new Uint8Array(100_000).map((_, k) => k % 251);
            const nested = {
              u8: new Uint8Array([7]),
              list: [new Int32Array([4])],
            };
            publishData({ f64, i32, u8, bigF64, bigI32, bigU8, nested });
            for (const a of [f64, i32, u8, bigF64, bigI32, bigU8]) a.fill(9);
            nested.u8.fill(9);
            nested.list[0].fill(9);
            publishData({ done: true });
            // The task's own arrays are intact (not detached by a transfer).
            return [bigF64.length, bigI32.length, bigU8.length, bigF64[1]];
          });
          assert.deepEqual(await ar, [20_000, 40_000, 100_000, 9]);
          const d = ar.data;
          assert.equal(d.done, true);
          assert.ok(d.f64 instanceof Float64Array);
          assert.ok(d.i32 instanceof Int32Array);
          assert.ok(d.u8 instanceof Uint8Array);
          assert.deepEqual([...d.f64], [0.5, 1.5, -2]);
          assert.deepEqual([...d.i32], [1, -2, 2147483647]);
          assert.deepEqual([...d.u8], [0, 128, 255]);

          const bigF64 = d.bigF64 as Float64Array;
          const bigI32 = d.bigI32 as Int32Array;
          const bigU8 = d.bigU8 as Uint8Array;
          assert.ok(bigF64 instanceof Float64Array);
          assert.ok(bigI32 instanceof Int32Array);
          assert.ok(bigU8 instanceof Uint8Array);
          assert.ok(bigF64.byteLength > 64 * 1024);
          assert.equal(bigF64.length, 20_000);
          assert.equal(bigI32.length, 40_000);
          assert.equal(bigU8.length, 100_000);
          assert.ok(bigF64.every((v, k) => v === k / 2), "bigF64 changed");
          assert.ok(bigI32.every((v, k) => v === -k), "bigI32 changed");
          assert.ok(bigU8.every((v, k) => v === k % 251), "bigU8 changed");

          const nested = d.nested as { u8: Uint8Array; list: Int32Array[] };
          assert.ok(nested.u8 instanceof Uint8Array);
          assert.deepEqual([...nested.u8], [7]);
          assert.ok(nested.list[0] instanceof Int32Array);
          assert.deepEqual([...nested.list[0]], [4]);
        },
      );

      await t.step(
        "publications() yields each publication in order, then ends",
        async () => {
          const ar = client.view(0).applyAsync(() => {
            for (let i = 0; i < 30; i++) publishData({ i });
            return "done";
          });
          const got = await guard(
            collect(ar.publications()),
            "publications",
            HANG_MS,
          );
          assert.equal(ar.ready(), true);
          assert.equal(await ar, "done");
          // Fewer than a window's worth: none merged.
          assert.deepEqual(
            got.map((p) => p.data),
            [...Array(30)].map((_, i) => ({ i })),
          );
          for (const p of got) assertPublication(p, ar);
          const seqs = got.map((p) => p.seq);
          assert.deepEqual(seqs, seqs.map((_, k) => seqs[0] + k));

          // After the tasks have finished, a new stream is empty and ends.
          assert.deepEqual(await collect(ar.publications()), []);
        },
      );

      await t.step(
        "breaking out of publications() early leaves nothing behind",
        async () => {
          const ar = client.view(1).applyAsync(async () => {
            for (let i = 0; i < 5; i++) {
              publishData({ i });
              await new Promise((r) => setTimeout(r, 5));
            }
          });
          for await (const p of ar.publications()) {
            assert.deepEqual(p.data, { i: 0 });
            break;
          }
          await guard(ar.get(), "the task", HANG_MS);
          assert.deepEqual(ar.data, { i: 4 });
        },
      );

      await t.step("registry: latest() and snapshot()", async () => {
        const ar = client.view().applyAsync(() => {
          publishData({ a: engineId });
          publishData({ b: engineId + 10 });
        });
        await ar;
        for (const id of [0, 1]) {
          const p = client.registry.latest(id);
          assert.ok(p);
          // The latest message, as sent: not merged with the earlier one.
          assert.deepEqual(p.data, { b: id + 10 });
          assert.equal(p.engineId, id);
          assert.equal(p.taskId, ar.taskIds[id]);
        }
        assert.equal(client.registry.latest(7), undefined);
        const snap = client.registry.snapshot();
        assert.ok(snap instanceof Map);
        assert.deepEqual([...snap.keys()].sort(), [0, 1]);
        assert.deepEqual(snap.get(0), client.registry.latest(0));
        assert.deepEqual(snap.get(1), client.registry.latest(1));
        snap.clear();
        assert.equal(client.registry.snapshot().size, 2);
      });

      await t.step(
        "registry: updates() from every engine; break early",
        async () => {
          const seen: Publication[] = [];
          const reader = (async () => {
            for await (const p of client.registry.updates()) {
              seen.push(p);
              if (seen.length === 6) break;
            }
          })();
          const ar = client.view().applyAsync(() => {
            for (let i = 0; i < 3; i++) publishData({ i, e: engineId });
          });
          await ar;
          await guard(reader, "the updates() reader", HANG_MS);
          for (const e of [0, 1]) {
            const mine = seen.filter((p) => p.engineId === e);
            assert.deepEqual(
              mine.map((p) => p.data),
              [0, 1, 2].map((i) => ({ i, e })),
            );
            assert.ok(mine.every((p) => p.taskId === ar.taskIds[e]));
          }
        },
      );

      await t.step(
        "bad input fails the task with a clear RemoteError",
        async () => {
          const publishValue = (v: unknown) => {
            publishData(v as Record<string, unknown>);
          };
          for (const bad of [5, null, [1], "text", undefined, true]) {
            await assert.rejects(
              client.view(0).applyAsync(publishValue, bad).get(),
              isRemote(/publishData\(\) takes an object/),
              `publishData(${JSON.stringify(bad)})`,
            );
          }
          await assert.rejects(
            client.view(1).applyAsync(() => publishData({ f: () => 1 })).get(),
            isRemote(
              /the data given to publishData\(\), at \.f, is a function/,
            ),
          );
          await assert.rejects(
            client.view(1).applyAsync(() => publishData({ s: Symbol("no") }))
              .get(),
            isRemote(/the data given to publishData\(\), at \.s, is a symbol/),
          );
          // A task can catch the error and go on; nothing half-sent arrives.
          const caught = client.view(1).applyAsync(() => {
            publishData({ ok: 1 });
            try {
              publishData({ f: () => 1, ok: 2 });
            } catch (error) {
              publishData({ caught: (error as Error).name });
            }
          });
          await caught;
          assert.deepEqual(caught.data, { ok: 1, caught: "TypeError" });
          // The engines are fine.
          assert.deepEqual(client.ids, [0, 1]);
          assert.deepEqual(await client.view().applyAsync(() => engineId), [
            0,
            1,
          ]);
        },
      );
    });
  });
}
