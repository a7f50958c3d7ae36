/**
 * `publishData`'s flow control under pressure, with real Worker engines:
 * busy loops, a full window, merged publications (their seq gaps, typed
 * arrays and bad input on the merged path), engines that interleave, and
 * the registry's updates() at close. What every kind of engine does alike
 * (`ar.data`, a flood that merges, typed arrays, `ar.publications()`, the
 * registry, bad input) is in engine_kind_publish.case.ts.
 *
 * Timing-sensitive checks are made deterministic with a SharedArrayBuffer
 * that the client and the task both see: a task waits for the client's
 * signal instead of for the clock, and the client blocks its own thread to
 * make the engine's publish window fill for sure. Clocks appear only as
 * generous hang guards.
 */

import assert from "node:assert/strict";
import {
  type Client,
  engineId,
  type Publication,
  publishData,
} from "../mod.ts";
import { PUBLISH_WINDOW } from "../protocol/flow_control.ts";
import { collect, guard, sleep, withClient } from "./helpers.ts";
import {
  assertPublication,
  assertStrictlyIncreasing,
} from "./publication_checks.ts";

/** Longest a well-behaved step may wait for something before failing. */
const HANG_MS = 30_000;

/** Blocks this thread (timers, messages and all) until `flag[0]` is set. */
function blockUntilSet(flag: Int32Array): void {
  const deadline = Date.now() + HANG_MS;
  while (Atomics.load(flag, 0) === 0) {
    if (Date.now() > deadline) throw new Error("the engine never set the flag");
  }
}

function hasGap(seqs: number[]): boolean {
  return seqs.some((seq, k) => k > 0 && seq !== seqs[k - 1] + 1);
}

Deno.test("publishData on the client", async (t) => {
  await t.step("engineId is -1 on the client", () => {
    assert.equal(engineId, -1);
  });

  await t.step("publishData outside a task throws a clear Error", () => {
    assert.throws(
      () => publishData({ a: 1 }),
      (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.match(error.message, /publishData\(\)/);
        assert.match(error.message, /inside a task/);
        assert.match(error.message, /on the client/);
        return true;
      },
    );
  });
});

// What the client says when a task API is used outside a task (how tasks
// fail on engines: engine_kind_errors.case.ts).
Deno.test("publishData and engineId on the client", () => {
  assert.throws(
    () => publishData({ a: 1 }),
    (e: unknown) =>
      e instanceof Error && /inside a task/.test(e.message) &&
      /engine/.test(e.message) && /client/.test(e.message),
  );
  assert.equal(engineId, -1);
});

Deno.test("publishData with Worker engines", async (t) => {
  await withClient({ workers: 2 }, async (client) => {
    assert.deepEqual(client.ids, [0, 1]);

    await t.step(
      "a busy synchronous loop publishes before it returns",
      async () => {
        // The loop runs for at least 500 ms and until the client says it saw a
        // publication (with a guard), so "before it returns" does not depend
        // on how fast this machine is.
        const seenFlag = new Int32Array(new SharedArrayBuffer(4));
        const ar = client.view(0).applyAsync(
          (sab: SharedArrayBuffer, ms: number, hangMs: number) => {
            const seen = new Int32Array(sab);
            const end = Date.now() + ms;
            const guard = Date.now() + hangMs;
            let i = 0;
            while (
              (Date.now() < end || Atomics.load(seen, 0) === 0) &&
              Date.now() < guard
            ) {
              publishData({ i: i++ });
            }
            return { last: i - 1, clientSaw: Atomics.load(seen, 0) === 1 };
          },
          seenFlag.buffer as SharedArrayBuffer,
          500,
          HANG_MS,
        );
        let firstWhileRunning: boolean | undefined;
        for await (const p of client.registry.updates()) {
          if (p.taskId !== ar.taskIds[0]) continue;
          firstWhileRunning = !ar.ready();
          Atomics.store(seenFlag, 0, 1);
          break;
        }
        assert.equal(firstWhileRunning, true);
        const { last, clientSaw } = await guard(
          ar.get(),
          "the busy loop",
          HANG_MS,
        );
        assert.equal(
          clientSaw,
          true,
          "the task ended before the client saw it",
        );
        assert.ok(last > 0);
        // The newest value of every key arrives.
        assert.deepEqual(ar.data, { i: last });
        assert.equal(client.registry.latest(0)?.data.i, last);
      },
    );

    await t.step("same, seen through ar.publications()", async () => {
      const seenFlag = new Int32Array(new SharedArrayBuffer(4));
      const ar = client.view(1).applyAsync(
        (sab: SharedArrayBuffer, hangMs: number) => {
          const seen = new Int32Array(sab);
          const guard = Date.now() + hangMs;
          let i = 0;
          while (Atomics.load(seen, 0) === 0 && Date.now() < guard) {
            publishData({ i: i++, tag: "busy" });
          }
          return i - 1;
        },
        seenFlag.buffer as SharedArrayBuffer,
        HANG_MS,
      );
      const readyAtEach: boolean[] = [];
      for await (const _ of ar.publications()) {
        readyAtEach.push(ar.ready());
        Atomics.store(seenFlag, 0, 1);
      }
      assert.equal(readyAtEach[0], false);
      const last = await ar;
      assert.deepEqual(ar.data, { i: last, tag: "busy" });
    });

    await t.step(
      "a full window: exactly the window plus one merged publication arrive",
      async () => {
        // The client blocks its thread until the task has made every call,
        // so no ack reaches the engine: it sends PUBLISH_WINDOW publications
        // and merges the rest into one, sent when the task returns.
        const doneFlag = new Int32Array(new SharedArrayBuffer(4));
        const calls = 1_000;
        const ar = client.view(1).applyAsync(
          (sab: SharedArrayBuffer, n: number) => {
            const done = new Int32Array(sab);
            for (let i = 0; i < n; i++) publishData({ i, [`k${i % 3}`]: i });
            Atomics.store(done, 0, 1);
            return n;
          },
          doneFlag.buffer as SharedArrayBuffer,
          calls,
        );
        const stream = ar.publications();
        blockUntilSet(doneFlag);
        const got = await guard(collect(stream), "the publications", HANG_MS);
        assert.equal(await ar, calls);
        for (const p of got) assertPublication(p, ar);

        assert.equal(got.length, PUBLISH_WINDOW + 1);
        assert.ok(got.length < calls);
        for (let k = 0; k < PUBLISH_WINDOW; k++) {
          assert.equal(got[k].data.i, k);
        }
        const newest = { i: calls - 1, k0: calls - 1, k1: 997, k2: 998 };
        assert.deepEqual(got.at(-1)!.data, { ...newest });
        assert.deepEqual(ar.data, newest);
        assertStrictlyIncreasing(got.map((p) => p.seq), "engine 1");
      },
    );

    await t.step(
      "an async task's merged publication arrives while it still runs",
      async () => {
        // flags[0]: the engine made its calls; flags[1]: the client saw them.
        const flags = new Int32Array(new SharedArrayBuffer(8));
        const ar = client.view(0).applyAsync(
          async (sab: SharedArrayBuffer, window: number, hangMs: number) => {
            const f = new Int32Array(sab);
            for (let i = 0; i < window + 50; i++) publishData({ i });
            Atomics.store(f, 0, 1);
            // Yield until the client has seen the newest value: the merged
            // rest must go out without waiting for the task to end.
            const guard = Date.now() + hangMs;
            while (Atomics.load(f, 1) === 0 && Date.now() < guard) {
              await new Promise((r) => setTimeout(r, 1));
            }
            return Atomics.load(f, 1) === 1;
          },
          flags.buffer as SharedArrayBuffer,
          PUBLISH_WINDOW,
          HANG_MS,
        );
        blockUntilSet(flags);
        const newest = PUBLISH_WINDOW + 49;
        const deadline = Date.now() + HANG_MS;
        while (ar.data.i !== newest && !ar.ready() && Date.now() < deadline) {
          await sleep(1);
        }
        const sawWhileRunning = !ar.ready() && ar.data.i === newest;
        Atomics.store(flags, 1, 1);
        assert.equal(await guard(ar.get(), "the task", HANG_MS), true);
        assert.ok(sawWhileRunning, "the merged publication waited for the end");
        assert.deepEqual(ar.data, { i: newest });
      },
    );

    await t.step(
      "merged publications leave a gap in seq (Publication.seq's contract)",
      async () => {
        const doneFlag = new Int32Array(new SharedArrayBuffer(4));
        const ar = client.view(1).applyAsync(
          (sab: SharedArrayBuffer, n: number) => {
            for (let i = 0; i < n; i++) publishData({ i });
            Atomics.store(new Int32Array(sab), 0, 1);
          },
          doneFlag.buffer as SharedArrayBuffer,
          1_000,
        );
        const stream = ar.publications();
        blockUntilSet(doneFlag);
        const seqs = (await guard(collect(stream), "publications", HANG_MS))
          .map((p) => p.seq);
        await ar;
        assert.ok(seqs.length < 1_000, `${seqs.length} arrived`);
        assert.ok(
          hasGap(seqs),
          `${1_000 - seqs.length} calls were merged, yet seq has no gap: ` +
            `${seqs.slice(-3)} (the client cannot tell that data was merged)`,
        );
      },
    );

    await t.step(
      "typed arrays on the merged path: same type, as they were",
      async () => {
        const doneFlag = new Int32Array(new SharedArrayBuffer(4));
        const ar = client.view(0).applyAsync(
          (sab: SharedArrayBuffer, window: number) => {
            // Fill the window while the client is blocked: what follows merges.
            for (let i = 0; i < window + 10; i++) publishData({ i });
            const small = new Float64Array([1, 2, 3]);
            const ints = new Int32Array([-1, 0, 1]);
            const big = new Uint8Array(200_000).fill(1);
            publishData({ small, ints, big });
            small.fill(9);
            ints.fill(9);
            big.fill(9);
            publishData({ done: true });
            Atomics.store(new Int32Array(sab), 0, 1);
            return big[0];
          },
          doneFlag.buffer as SharedArrayBuffer,
          PUBLISH_WINDOW,
        );
        const stream = ar.publications();
        blockUntilSet(doneFlag);
        const got = await guard(collect(stream), "publications", HANG_MS);
        assert.equal(await ar, 9);
        // Proof that this went through the merge path.
        assert.equal(got.length, PUBLISH_WINDOW + 1);
        const d = ar.data;
        assert.equal(d.done, true);
        assert.ok(d.small instanceof Float64Array);
        assert.ok(d.ints instanceof Int32Array);
        assert.ok(d.big instanceof Uint8Array);
        assert.deepEqual([...d.small], [1, 2, 3]);
        assert.deepEqual([...d.ints], [-1, 0, 1]);
        assert.equal((d.big as Uint8Array).length, 200_000);
        assert.ok((d.big as Uint8Array).every((v) => v === 1), "big changed");
      },
    );

    await t.step("several engines interleave in publications()", async () => {
      // Engine e publishes round k when turn = 2k + e; the client advances
      // the turn for each publication it receives, which forces the order.
      const rounds = 6;
      const turn = new Int32Array(new SharedArrayBuffer(4));
      const ar = client.view().applyAsync(
        async (sab: SharedArrayBuffer, n: number, hangMs: number) => {
          const t = new Int32Array(sab);
          const guard = Date.now() + hangMs;
          for (let k = 0; k < n; k++) {
            while (Atomics.load(t, 0) !== 2 * k + engineId) {
              if (Date.now() > guard) throw new Error("my turn never came");
              await new Promise((r) => setTimeout(r, 1));
            }
            publishData({ k, from: engineId });
          }
          return engineId;
        },
        turn.buffer as SharedArrayBuffer,
        rounds,
        HANG_MS,
      );
      const both = [ar.publications(), ar.publications()];
      const got: Publication[] = [];
      const second = collect(both[1]);
      for await (const p of both[0]) {
        got.push(p);
        Atomics.add(turn, 0, 1);
      }
      assert.deepEqual(await ar, [0, 1]);
      assert.equal(got.length, 2 * rounds);
      got.forEach((p, n) => {
        assertPublication(p, ar);
        assert.equal(p.engineId, n % 2);
        assert.deepEqual(p.data, { k: Math.floor(n / 2), from: n % 2 });
      });
      for (const e of [0, 1]) {
        assertStrictlyIncreasing(
          got.filter((p) => p.engineId === e).map((p) => p.seq),
          `engine ${e}`,
        );
      }
      // A second reader of the same result saw the same publications.
      assert.deepEqual(await second, got);
      assert.deepEqual(ar.data, [
        { k: rounds - 1, from: 0 },
        { k: rounds - 1, from: 1 },
      ]);
    });

    await t.step(
      "bad input on the merged path is a clear RemoteError too",
      async () => {
        const doneFlag = new Int32Array(new SharedArrayBuffer(4));
        const ar = client.view(0).applyAsync(
          (sab: SharedArrayBuffer, window: number) => {
            for (let i = 0; i < window + 1; i++) publishData({ i });
            let message = "";
            try {
              publishData({ f: () => 1 });
            } catch (error) {
              message = (error as Error).message;
            }
            publishData({ last: true });
            Atomics.store(new Int32Array(sab), 0, 1);
            return message;
          },
          doneFlag.buffer as SharedArrayBuffer,
          PUBLISH_WINDOW,
        );
        blockUntilSet(doneFlag);
        const message = await guard(ar.get(), "the task", HANG_MS);
        assert.match(
          message,
          /the data given to publishData\(\), at \.f, is a function/,
        );
        assert.deepEqual(ar.data, { i: PUBLISH_WINDOW, last: true });
      },
    );
  });
});

Deno.test("registry updates() ends when the client closes", async (t) => {
  let reader: Promise<Publication[]> | undefined;
  let idle: Promise<Publication[]> | undefined;
  let client: Client | undefined;
  await withClient({ workers: 1 }, async (c) => {
    client = c;
    reader = collect(c.registry.updates());
    const ar = c.view(0).applyAsync(() => {
      publishData({ x: 1 });
      publishData({ x: 2 });
    });
    await ar;
    idle = collect(c.registry.updates()); // sees nothing, ends on close
  });
  await t.step("a reader gets what was published, then ends", async () => {
    const got = await guard(reader!, "updates() after close", HANG_MS);
    assert.deepEqual(got.map((p) => p.data), [{ x: 1 }, { x: 2 }]);
    assert.deepEqual(await guard(idle!, "idle updates()", HANG_MS), []);
  });
  await t.step("updates() after close is empty and ended", async () => {
    assert.deepEqual(await collect(client!.registry.updates()), []);
  });
});
