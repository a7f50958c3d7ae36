/**
 * `p.map(seq)` of `view.parallel(fn)` (ipyparallel's `p.map`, per element
 * as troupe's `p(seq)` is), `lv.parallel`'s options checked when it wraps,
 * and a direct call whose signal had aborted already, which still says the
 * engines it was for: on both engine kinds and both client sides.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TaskAbortedError } from "../mod.ts";
import { eachEngineKind, errorOf, guard } from "./helpers.ts";

eachEngineKind("p.map and parallel options", 2, async ({ t, client }) => {
  await t.step("p.map(seq) is p(seq), one call per element", async () => {
    const square = (x: number) => x * x;
    for (const view of [client.view(), client.loadBalancedView()]) {
      const p = view.parallel(square);
      const mapped: number[] = await guard(p.map([1, 2, 3]), "p.map");
      assert.deepEqual(mapped, [1, 4, 9]);
      assert.deepEqual(await guard(p([1, 2, 3]), "p(seq)"), mapped);
      assert.throws(() => (p.map as () => unknown)(), /called with none/);
    }
  });

  await t.step("a misspelt parallel option is refused at once", () => {
    const lv = client.loadBalancedView();
    assert.throws(
      () => lv.parallel((x: number) => x, { chunksize: 2 } as never),
      (e: Error) =>
        e instanceof TypeError &&
        /unknown option "chunksize" in parallel options/.test(e.message) &&
        /"chunkSize"/.test(e.message),
    );
    assert.throws(
      () => lv.parallel((x: number) => x, { after: "x" } as never),
      /after in parallel options must be an array/,
    );
    // The call options are map options too.
    const p = lv.parallel((x: number) => x, { signal: AbortSignal.abort() });
    assert.equal(typeof p, "function");
  });
});

eachEngineKind("a pre-aborted direct call", 2, async ({ t, client }) => {
  await t.step("its records say the engines it was for", async () => {
    const dv = client.view([1, 0]).with({ signal: AbortSignal.abort() });
    const ar = dv.applyAsync(() => 1);
    await errorOf(ar, "pre-aborted direct call");
    assert.deepEqual(ar.engineIds, [1, 0]);
    assert.deepEqual(ar.metadata.map((m) => m.engineId), [1, 0]);
    const single = client.view(1).with({ signal: AbortSignal.abort() })
      .applyAsync(() => 1);
    const one = await errorOf(single, "pre-aborted single call");
    assert.ok(one instanceof TaskAbortedError);
    assert.equal(one.engineId, 1);
    assert.equal(single.engineIds[0], 1);
    // A load-balanced one had no engine yet.
    const lb = client.loadBalancedView().with({ signal: AbortSignal.abort() })
      .applyAsync(() => 1);
    const none = await errorOf(lb, "pre-aborted load-balanced call");
    assert.ok(none instanceof TaskAbortedError);
    assert.equal(none.engineId, undefined);
    assert.deepEqual(lb.engineIds, [-1]);
  });
});
