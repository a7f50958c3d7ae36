/**
 * Unit tests for "later keys win", the one merge of published data
 * (`mergeData`), and for `mergePublications`, which builds on it.
 */

import assert from "node:assert/strict";
import { mergeData, mergePublications } from "./publication.ts";
import { pub } from "../tests/publication_checks.ts";

Deno.test("mergeData", async (t) => {
  await t.step("later keys win, earlier keys stay", () => {
    const data: Record<string, unknown> = { a: 1, i: 0 };
    mergeData(data, { i: 1, b: 2 });
    assert.deepEqual(data, { a: 1, i: 1, b: 2 });
  });

  await t.step(
    "changes and returns `into`, so a handed-out object stays live",
    () => {
      const into: Record<string, unknown> = {};
      const seen = into; // as a caller keeps `ar.data`
      assert.equal(mergeData(into, { i: 1 }), into);
      mergeData(into, { i: 2 });
      assert.deepEqual(seen, { i: 2 });
    },
  );

  await t.step("leaves `later` alone and keeps values as they are", () => {
    const arr = new Float64Array([1, 2]);
    const later = { arr };
    const data = mergeData({ a: 1 }, later);
    assert.deepEqual(later, { arr });
    assert.equal(data.arr, arr);
  });

  await t.step("keys keep the order they were first set in", () => {
    const data = mergeData(mergeData({ a: 1, b: 2 }, { c: 3 }), { a: 4 });
    assert.deepEqual(Object.keys(data), ["a", "b", "c"]);
    assert.equal(data.a, 4);
  });

  await t.step("a key named __proto__ is data, not a prototype", () => {
    // What an engine may publish: JSON's own "__proto__" key.
    const later = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}');
    const data = mergeData({}, later);
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
    assert.equal((data as { polluted?: boolean }).polluted, undefined);
    assert.deepEqual(Object.keys(data), ["__proto__", "x"]);
  });
});

Deno.test("mergePublications", async (t) => {
  await t.step("takes b's identity and both data, b winning", () => {
    const a = pub(0, 1, 1, { a: 1, i: 0 });
    const b = pub(0, 1, 2, { i: 1, b: 2 });
    const m = mergePublications(a, b);
    assert.deepEqual(m, {
      engineId: 0,
      taskId: 1,
      seq: 2,
      time: b.time,
      data: { a: 1, i: 1, b: 2 },
    });
  });

  await t.step("does not mutate its inputs", () => {
    const a = pub(0, 1, 1, { a: 1 });
    const b = pub(0, 1, 2, { b: 2 });
    const m = mergePublications(a, b);
    assert.deepEqual(a.data, { a: 1 });
    assert.deepEqual(b.data, { b: 2 });
    assert.notEqual(m.data, a.data);
    assert.notEqual(m.data, b.data);
  });

  await t.step("keeps values as they are (typed arrays stay typed)", () => {
    const arr = new Float64Array([1, 2]);
    const m = mergePublications(pub(0, 1, 1, { a: 1 }), pub(0, 1, 2, { arr }));
    assert.equal(m.data.arr, arr);
  });
});
