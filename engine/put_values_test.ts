import assert from "node:assert/strict";
import { PutValues } from "./put_values.ts";
import type { RunMessage } from "../protocol/messages.ts";

const FN = { kind: "source", source: "(a, b) => a" } as const;

Deno.test("PutValues: kept values become the task's arguments", () => {
  const store = new PutValues();
  const big = [1, 2, 3];
  const first: RunMessage = {
    t: "run",
    taskId: 1,
    fn: FN,
    args: [null, "b"],
    refs: [{ arg: 0, id: 7 }],
    values: [{ id: 7, value: big }],
  };
  const taken = store.takeIn(first);
  assert.deepEqual(taken.args, [big, "b"]);
  assert.equal(taken.args[0], big);
  assert.deepEqual(first.args, [null, "b"], "the message is left as it came");
  // A later task names it only: the kept value, the same object.
  const later = store.takeIn({ ...first, taskId: 2, values: undefined });
  assert.equal(later.args[0], big);
  assert.equal(store.size, 1);
  store.release({ t: "release", ids: [7, 99] });
  assert.equal(store.size, 0);
  assert.throws(
    () => store.takeIn({ ...first, taskId: 3, values: undefined }),
    /argument 1 is put value 7, which this engine does not hold/,
  );
  const plain: RunMessage = { t: "run", taskId: 4, fn: FN, args: [1] };
  assert.equal(store.takeIn(plain), plain);
});
