/** The scheduler's heap of engines by load: its top, sets and deletes. */

import assert from "node:assert/strict";
import { LoadHeap } from "./load_heap.ts";
import { rng } from "../tests/frame_streams.ts";
import { range } from "../tests/helpers.ts";

interface Engine {
  engineId: number;
}

Deno.test("the top is the least loaded, ties to the lowest id; loads move both ways", () => {
  const heap = new LoadHeap<Engine>();
  const [a, b, c] = range(3).map((engineId) => ({ engineId }));
  assert.equal(heap.peek(), undefined);
  heap.set(c, 0);
  heap.set(b, 0);
  heap.set(a, 1);
  assert.equal(heap.peek(), b, "a tie goes to the lowest id");
  heap.set(b, 3);
  assert.equal(heap.peek(), c);
  heap.set(a, 0);
  assert.equal(heap.peek(), a, "a load that falls rises to the top");
  assert.deepEqual([heap.loadOf(a), heap.loadOf(b), heap.loadOf(c)], [
    0,
    3,
    0,
  ]);
  assert.ok(heap.delete(a));
  assert.ok(!heap.delete(a), "a second delete finds nothing");
  assert.equal(heap.loadOf(a), undefined);
  assert.ok(!heap.has(a) && heap.has(b));
  assert.equal(heap.peek(), c);
  assert.equal(heap.size, 2);
  assert.deepEqual(new Set(heap.values()), new Set([b, c]));
  heap.clear();
  assert.equal(heap.size, 0);
  assert.equal(heap.peek(), undefined);
  heap.set(b, 7);
  assert.equal(heap.peek(), b, "usable after a clear");
});

Deno.test("random sets and deletes keep the top what a look at every engine finds", () => {
  const r = rng(13);
  const engines = range(64).map((engineId) => ({ engineId }));
  const heap = new LoadHeap<Engine>();
  const loads = new Map<Engine, number>();
  for (let step = 0; step < 20_000; step++) {
    const engine = engines[r.int(engines.length)];
    if (r.next() < 0.2) {
      assert.equal(heap.delete(engine), loads.delete(engine));
    } else {
      const load = r.int(8);
      heap.set(engine, load);
      loads.set(engine, load);
    }
    let best: Engine | undefined;
    for (const [e, load] of loads) {
      const bestLoad = best && loads.get(best)!;
      if (
        !best || load < bestLoad! ||
        (load === bestLoad && e.engineId < best.engineId)
      ) best = e;
    }
    assert.equal(heap.peek(), best, `step ${step}`);
    assert.equal(heap.size, loads.size);
  }
});
