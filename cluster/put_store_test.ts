import assert from "node:assert/strict";
import { PutDelivery } from "./put_delivery.ts";
import { entriesOf, PutStore } from "./put_store.ts";
import type { RunMessage, ToEngine } from "../protocol/messages.ts";

const FN = { kind: "source", source: "(x) => x" } as const;

function run(taskId: number, ids: number[]): RunMessage {
  return {
    t: "run",
    taskId,
    fn: FN,
    args: ids.map(() => null),
    refs: ids.map((id, arg) => ({ arg, id })),
  };
}

Deno.test("PutStore: binary values are copied once into shared memory", () => {
  const store = new PutStore();
  const source = new Float64Array([1, 2, 3]);
  const typed = store.put(1, source).value as Float64Array;
  assert.ok(typed instanceof Float64Array);
  assert.ok(typed.buffer instanceof SharedArrayBuffer);
  assert.deepEqual([...typed], [1, 2, 3]);
  source[0] = 9; // A snapshot: the caller's array is not the hub's.
  assert.equal(typed[0], 1);
  const part = new Uint8Array([5, 6, 7, 8]).subarray(1, 3);
  assert.deepEqual([...(store.put(2, part).value as Uint8Array)], [6, 7]);
  const buffer = store.put(3, new Uint8Array([4]).buffer);
  assert.ok(buffer.value instanceof SharedArrayBuffer);
  // An engine that shares no memory gets a plain copy of a bare buffer.
  const copy = buffer.valueFor(false);
  assert.ok(copy instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(copy)], [4]);
  assert.equal(buffer.valueFor(true), buffer.value);
  const plain = { a: 1 };
  assert.equal(store.put(4, plain).value, plain);
  assert.throws(() => store.put(4, 1), /put value 4 is held already/);
});

Deno.test("PutStore: a task takes its entries, or fails naming the value", () => {
  const store = new PutStore();
  store.put(1, "one");
  const task = run(10, [1]);
  assert.equal(store.take(task), undefined);
  assert.deepEqual(entriesOf(task.refs!)?.map((e) => e.value), ["one"]);
  store.release([1]);
  const error = store.take(run(11, [1]));
  assert.match(
    String(error),
    /task 11's argument 1 is put value 1, which the cluster does not hold: it was released/,
  );
  // Taken before the release: the task still has its value.
  assert.equal(entriesOf(task.refs!)?.[0].released, true);
  assert.equal(entriesOf(task.refs!)?.[0].value, "one");
});

Deno.test("PutDelivery: each value once per life; releases reach it", () => {
  const store = new PutStore();
  const sent: ToEngine[] = [];
  const delivery = new PutDelivery(true, (m) => void sent.push(m));
  const one = store.put(1, "one");
  const two = store.put(2, "two");
  const first = delivery.attach(run(10, [1, 1, 2]), [one, one, two]);
  assert.deepEqual(first.values, [
    { id: 1, value: "one" },
    { id: 2, value: "two" },
  ]);
  delivery.sent([one, one, two]);
  assert.equal(delivery.attach(run(11, [2]), [two]).values, undefined);
  store.release([2]);
  assert.deepEqual(sent, [{ t: "release", ids: [2] }]);
  // A new life (a reset, a restart) holds nothing: sent again.
  delivery.forget();
  assert.deepEqual(delivery.attach(run(12, [1]), [one]).values, [
    { id: 1, value: "one" },
  ]);
  store.release([1]);
  assert.equal(sent.length, 1, "a forgotten life is not told");
});

Deno.test("PutDelivery: a value released before its task was sent", () => {
  const store = new PutStore();
  const sent: ToEngine[] = [];
  const delivery = new PutDelivery(false, (m) => void sent.push(m));
  const entry = store.put(1, [1]);
  store.release([1]); // The task took it at submission, before this.
  assert.deepEqual(delivery.attach(run(10, [1]), [entry]).values, [
    { id: 1, value: [1] },
  ]);
  delivery.sent([entry]);
  // The engine keeps it for this task only: it is told to forget it next.
  assert.deepEqual(sent, [{ t: "release", ids: [1] }]);
  assert.equal(entry.holders.size, 0);
});
