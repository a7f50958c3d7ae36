import assert from "node:assert/strict";
import { functionRef, moduleFunction } from "./task_function.ts";

Deno.test("functionRef: a reused function and fresh closures of its source give one ref; a new source its own", () => {
  const double = (x: number) => x * 2;
  const first = functionRef(double);
  assert.equal(functionRef(double), first);
  const fresh = [1, 2, 3].map(() => functionRef((x: number) => x * 2));
  for (const ref of fresh) assert.equal(ref, first);
  const other = functionRef((x: number) => x * 3);
  assert.notEqual(other, first);
  assert.deepEqual(other, { kind: "source", source: "(x)=>x * 3" });
  assert.deepEqual(
    functionRef(moduleFunction("file:///tmp/m.ts", "step")),
    { kind: "module", url: "file:///tmp/m.ts", name: "step" },
  );
});
