/**
 * Unit tests, without workers, for the publication plumbing on the client:
 * `PublicationStream` and the `Registry` actor (`mergePublications` is
 * tested beside it, in `protocol/publication_test.ts`).
 */

import assert from "node:assert/strict";
import {
  type Publication,
  PublicationStream,
} from "../protocol/publication.ts";
import { type PublicationSink, Registry } from "../cluster/registry.ts";
import { collect, sleep } from "./helpers.ts";
import { pub } from "./publication_checks.ts";

/** The number of unread items a stream holds before it starts merging. */
const STREAM_BUFFER = 1024;

/** Lets every pending promise callback run: resolves on the next macrotask. */
function settle(): Promise<void> {
  return sleep(0);
}

Deno.test("PublicationStream", async (t) => {
  await t.step("yields what was pushed, in order, then ends", async () => {
    const s = new PublicationStream();
    const items = [1, 2, 3, 4, 5].map((i) => pub(i % 2, 7, i, { i }));
    for (const p of items) s.push(p);
    s.end();
    assert.deepEqual(await collect(s), items);
  });

  await t.step(
    "end() lets a reader drain the buffer; pushes after end are ignored",
    async () => {
      const s = new PublicationStream();
      s.push(pub(0, 1, 1, { i: 1 }));
      s.push(pub(0, 1, 2, { i: 2 }));
      s.end();
      s.push(pub(0, 1, 3, { i: 3 }));
      s.end(); // twice is fine
      const got = await collect(s);
      assert.deepEqual(got.map((p) => p.seq), [1, 2]);
    },
  );

  await t.step("an ended empty stream finishes at once", async () => {
    const s = new PublicationStream();
    s.end();
    assert.deepEqual(await collect(s), []);
  });

  await t.step("a waiting reader wakes on push and on end", async () => {
    const s = new PublicationStream();
    const got: number[] = [];
    let finished = false;
    const reader = (async () => {
      for await (const p of s) got.push(p.seq);
      finished = true;
    })();
    await settle();
    assert.deepEqual(got, []);
    s.push(pub(0, 1, 1, {}));
    await settle();
    assert.deepEqual(got, [1]);
    s.push(pub(0, 1, 2, {}));
    s.push(pub(1, 2, 1, {}));
    await settle();
    assert.deepEqual(got, [1, 2, 1]);
    assert.equal(finished, false);
    s.end();
    await reader;
    assert.equal(finished, true);
  });

  await t.step(
    "a slow reader past the buffer merges per engine and task, keeping the newest values",
    async () => {
      const s = new PublicationStream();
      for (let i = 1; i <= STREAM_BUFFER; i++) {
        s.push(pub(0, 1, i, { i, a: "first" }));
      }
      // The buffer is full: this merges into the newest unread (0, 1).
      s.push(pub(0, 1, STREAM_BUFFER + 1, { i: STREAM_BUFFER + 1, x: 1 }));
      // No unread item of (1, 2): appended.
      s.push(pub(1, 2, 1, { j: 1, keep: "me" }));
      // Merges into that one.
      s.push(pub(1, 2, 2, { j: 2 }));
      // Merges into (0, 1) again, though (1, 2) is newer in the buffer.
      s.push(pub(0, 1, STREAM_BUFFER + 2, { a: "last" }));
      // Same engine, other task: a task of its own.
      s.push(pub(0, 3, STREAM_BUFFER + 3, { t: 3 }));
      s.end();
      const got = await collect(s);

      assert.equal(got.length, STREAM_BUFFER + 2);
      for (let k = 0; k < STREAM_BUFFER - 1; k++) {
        assert.deepEqual(got[k], pub(0, 1, k + 1, { i: k + 1, a: "first" }));
      }
      assert.deepEqual(
        got[STREAM_BUFFER - 1],
        pub(0, 1, STREAM_BUFFER + 2, { i: STREAM_BUFFER + 1, a: "last", x: 1 }),
      );
      assert.deepEqual(got[STREAM_BUFFER], pub(1, 2, 2, { j: 2, keep: "me" }));
      assert.deepEqual(
        got[STREAM_BUFFER + 1],
        pub(0, 3, STREAM_BUFFER + 3, { t: 3 }),
      );
      // Each engine's order is kept: seq strictly increases per engine.
      for (const engine of [0, 1]) {
        const seqs = got.filter((p) => p.engineId === engine).map((p) => p.seq);
        for (let k = 1; k < seqs.length; k++) {
          assert.ok(seqs[k] > seqs[k - 1], `engine ${engine}: ${seqs}`);
        }
      }
    },
  );

  await t.step("memory stays bounded under a flood", async () => {
    const s = new PublicationStream();
    const n = 100_000;
    for (let i = 1; i <= n; i++) s.push(pub(i % 3, 10 + (i % 3), i, { i }));
    s.end();
    const got = await collect(s);
    assert.ok(got.length <= STREAM_BUFFER + 3, `${got.length} items`);
    // The newest value of each engine's key arrives last for that engine.
    for (const engine of [0, 1, 2]) {
      const last = got.filter((p) => p.engineId === engine).at(-1)!;
      let newest = n;
      while (newest % 3 !== engine) newest--;
      assert.equal(last.data.i, newest);
      assert.equal(last.seq, newest);
    }
  });

  await t.step("onClose runs once when the stream ends", async () => {
    let calls = 0;
    const s = new PublicationStream(() => calls++);
    s.push(pub(0, 1, 1, {}));
    s.end();
    assert.equal(calls, 1);
    s.end();
    await collect(s);
    assert.equal(calls, 1);
  });

  await t.step("onClose runs once when the reader stops early", async () => {
    let calls = 0;
    const s = new PublicationStream(() => calls++);
    for (let i = 1; i <= 3; i++) s.push(pub(0, 1, i, { i }));
    for await (const p of s) {
      assert.equal(p.seq, 1);
      break;
    }
    assert.equal(calls, 1);
    // The reader is gone: the stream is over for good.
    s.push(pub(0, 1, 4, {}));
    s.end();
    assert.equal(calls, 1);
  });

  await t.step(
    "onClose runs once when a waiting reader ends via end()",
    async () => {
      let calls = 0;
      const s = new PublicationStream(() => calls++);
      const reader = collect(s);
      await settle();
      s.push(pub(0, 1, 1, {}));
      s.end();
      assert.equal((await reader).length, 1);
      assert.equal(calls, 1);
    },
  );
});

function recordingSink(): PublicationSink & { got: Publication[] } {
  const got: Publication[] = [];
  return { got, publish: (p) => void got.push(p) };
}

Deno.test("Registry without workers", async (t) => {
  await t.step("keeps the latest publication of each engine, as sent", () => {
    const r = new Registry();
    assert.equal(r.latest(0), undefined);
    assert.equal(r.snapshot().size, 0);
    const p1 = pub(0, 1, 1, { a: 1 });
    const p2 = pub(0, 1, 2, { b: 2 });
    const q1 = pub(3, 2, 1, { c: 3 });
    r.tell({ kind: "publish", publication: p1 });
    r.tell({ kind: "publish", publication: q1 });
    r.tell({ kind: "publish", publication: p2 });
    // The latest message, not a merge (ipyparallel's registry keeps the last).
    assert.deepEqual(r.latest(0), p2);
    assert.deepEqual(r.latest(3), q1);
    assert.equal(r.latest(1), undefined);
    const snap = r.snapshot();
    assert.ok(snap instanceof Map);
    assert.deepEqual([...snap.keys()].sort(), [0, 3]);
    assert.deepEqual(snap.get(0), p2);
    // A copy: changing it does not change the registry.
    snap.delete(0);
    assert.deepEqual(r.latest(0), p2);
    assert.equal(r.snapshot().size, 2);
  });

  await t.step("routes a watched task's publications to its sink only", () => {
    const r = new Registry();
    const a = recordingSink();
    const b = recordingSink();
    r.tell({ kind: "watch", taskId: 1, sink: a });
    r.tell({ kind: "watch", taskId: 2, sink: b });
    r.tell({ kind: "publish", publication: pub(0, 1, 1, { x: 1 }) });
    r.tell({ kind: "publish", publication: pub(1, 2, 1, { y: 1 }) });
    r.tell({ kind: "publish", publication: pub(0, 9, 2, { z: 1 }) });
    r.tell({ kind: "publish", publication: pub(0, 1, 3, { x: 2 }) });
    assert.deepEqual(a.got.map((p) => p.data), [{ x: 1 }, { x: 2 }]);
    assert.deepEqual(b.got.map((p) => p.data), [{ y: 1 }]);
    r.tell({ kind: "unwatch", taskId: 1 });
    r.tell({ kind: "publish", publication: pub(0, 1, 4, { x: 3 }) });
    assert.equal(a.got.length, 2);
    // The registry still records it.
    assert.deepEqual(r.latest(0)?.data, { x: 3 });
  });

  await t.step("a sink that tells the registry is not re-entered", () => {
    const r = new Registry();
    const order: string[] = [];
    r.tell({
      kind: "watch",
      taskId: 1,
      sink: {
        publish(p) {
          order.push(`start ${p.seq}`);
          if (p.seq === 1) {
            r.tell({ kind: "publish", publication: pub(0, 1, 2, {}) });
          }
          order.push(`end ${p.seq}`);
        },
      },
    });
    r.tell({ kind: "publish", publication: pub(0, 1, 1, {}) });
    assert.deepEqual(order, ["start 1", "end 1", "start 2", "end 2"]);
  });

  await t.step("updates() yields what is published from then on", async () => {
    const r = new Registry();
    r.tell({ kind: "publish", publication: pub(0, 1, 1, { before: true }) });
    const updates = r.updates();
    const reader = collect(updates);
    const later = [pub(0, 1, 2, { i: 2 }), pub(1, 2, 1, { i: 1 })];
    for (const p of later) r.tell({ kind: "publish", publication: p });
    r.tell({ kind: "close" });
    assert.deepEqual(await reader, later);
  });

  await t.step("several updates() streams each see everything", async () => {
    const r = new Registry();
    const readers = [collect(r.updates()), collect(r.updates())];
    for (let i = 1; i <= 5; i++) {
      r.tell({ kind: "publish", publication: pub(i % 2, 1, i, { i }) });
    }
    r.tell({ kind: "close" });
    for (const got of await Promise.all(readers)) {
      assert.deepEqual(got.map((p) => p.seq), [1, 2, 3, 4, 5]);
    }
  });

  await t.step(
    "breaking out of updates() early leaves the rest working",
    async () => {
      const r = new Registry();
      const stays = collect(r.updates());
      const leaves = (async () => {
        for await (const p of r.updates()) return p.seq;
      })();
      r.tell({ kind: "publish", publication: pub(0, 1, 1, {}) });
      assert.equal(await leaves, 1);
      r.tell({ kind: "publish", publication: pub(0, 1, 2, {}) });
      r.tell({ kind: "close" });
      assert.deepEqual((await stays).map((p) => p.seq), [1, 2]);
    },
  );

  await t.step("close ends the streams and drops the sinks", async () => {
    const r = new Registry();
    const sink = recordingSink();
    r.tell({ kind: "watch", taskId: 1, sink });
    const reader = collect(r.updates());
    r.tell({ kind: "close" });
    assert.deepEqual(await reader, []);
    r.tell({ kind: "publish", publication: pub(0, 1, 1, {}) });
    assert.equal(sink.got.length, 0);
    // updates() after close is an ended stream.
    assert.deepEqual(await collect(r.updates()), []);
    r.tell({ kind: "close" }); // twice is fine
  });
});
