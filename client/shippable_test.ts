import assert from "node:assert/strict";
import { shippable } from "./shippable.ts";

Deno.test("shippable: fresh closures of one source, as in a loop, share one checked SourceFunction", () => {
  const refs = [1, 2, 3].map(() => shippable((x: number) => x + 1));
  assert.equal(refs[0].source, "(x)=>x + 1");
  assert.equal(refs[1], refs[0]);
  assert.equal(refs[2], refs[0]);
});

Deno.test("shippable: a method's expression keeps its own name, cached or not", () => {
  const a = {
    f() {
      return 1;
    },
  }.f;
  const b = {
    f() {
      return 1;
    },
  }.f;
  Object.defineProperty(b, "name", { value: "g" });
  assert.equal(a.toString(), b.toString());
  assert.match(shippable(a).source, /\["f"\]$/);
  assert.match(shippable(b).source, /\["g"\]$/);
  assert.match(shippable(a).source, /\["f"\]$/);
});

Deno.test("shippable: built-ins and classes are refused every time, not only the first", () => {
  for (let i = 0; i < 2; i++) {
    assert.throws(() => shippable(setTimeout), /built-in or bound/);
    assert.throws(() => shippable(class A {}), /is a class/);
  }
});
