import assert from "node:assert/strict";
import { IdTable } from "./id_table.ts";
import { range } from "../tests/helpers.ts";
import { rng } from "../tests/frame_streams.ts";

/** A seeded shuffle (frame_streams' rng), so that a failure replays. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  const random = rng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

Deno.test("IdTable agrees with a Map under ids set in order and removed in any order, some set out of order", () => {
  for (const seed of [1, 2, 3]) {
    const table = new IdTable<number>();
    const map = new Map<number, number>();
    const check = () => {
      assert.equal(table.size, map.size);
      for (let id = 0; id < 3100; id += 7) {
        assert.equal(table.get(id), map.get(id));
      }
    };
    // Waves: ids go in increasing, leave shuffled, now and then one
    // older id comes back (out of order) and some are removed twice.
    let next = 1;
    for (let wave = 0; wave < 3; wave++) {
      const ids = range(1000).map(() => next++);
      for (const id of ids) {
        table.set(id, id * 10);
        map.set(id, id * 10);
      }
      check();
      const late = 1 + wave * 7;
      table.set(late, -late);
      map.set(late, -late);
      check();
      for (const id of shuffled(ids, seed + wave).slice(0, 900)) {
        assert.equal(table.delete(id), map.delete(id));
        assert.equal(table.delete(id), false, "removed twice");
        map.delete(id);
      }
      check();
    }
    for (const id of [...map.keys()]) {
      assert.equal(table.delete(id), true);
      map.delete(id);
    }
    check();
    assert.equal(table.size, 0);
    // Empty again: it starts over anywhere, below or above.
    table.set(5, 50);
    table.set(9_000, 90);
    assert.equal(table.get(5), 50);
    assert.equal(table.get(9_000), 90);
    assert.equal(table.size, 2);
  }
});

Deno.test("IdTable: a long-lived oldest id keeps the rest reachable, and leaving frees the window", () => {
  const table = new IdTable<string>();
  table.set(1, "long");
  for (let id = 2; id <= 5000; id++) table.set(id, `t${id}`);
  for (let id = 2; id <= 5000; id++) assert.equal(table.delete(id), true);
  assert.equal(table.get(1), "long");
  assert.equal(table.get(4000), undefined);
  assert.equal(table.size, 1);
  assert.equal(table.delete(1), true);
  assert.equal(table.size, 0);
  table.set(5001, "next");
  assert.equal(table.get(5001), "next");
  assert.equal(table.get(1), undefined);
});

Deno.test("IdTable: blocks of ids 2^32 apart (a controller's clients) agree with a Map", () => {
  const table = new IdTable<number>();
  const map = new Map<number, number>();
  const blocks = [2 ** 32, 2 * 2 ** 32, 5 * 2 ** 32];
  const random = rng(7);
  for (let i = 1; i <= 300; i++) {
    for (const base of blocks) {
      const id = base + i;
      table.set(id, i);
      map.set(id, i);
    }
    // Some leave, from any block, so the window restarts in another.
    for (const id of [...map.keys()]) {
      if (random.next() < 0.3) {
        assert.equal(table.delete(id), true);
        map.delete(id);
      }
    }
    assert.equal(table.size, map.size);
  }
  for (const [id, v] of map) assert.equal(table.get(id), v);
  assert.equal(table.get(3 * 2 ** 32 + 1), undefined);
  assert.equal(table.delete(3 * 2 ** 32 + 1), false);
  for (const id of map.keys()) assert.equal(table.delete(id), true);
  assert.equal(table.size, 0);
});
