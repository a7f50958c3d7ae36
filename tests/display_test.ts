import assert from "node:assert/strict";
import { inspect } from "node:util";
import { type AsyncResult, engineId, publishData } from "../mod.ts";
import { until, withClient } from "./helpers.ts";

/** What Deno's Jupyter kernel calls to show a value. */
function display(ar: AsyncResult<unknown>): Record<string, string> {
  const show = (ar as unknown as Record<symbol, () => Record<string, string>>)[
    Symbol.for("Jupyter.display")
  ];
  return show.call(ar);
}

Deno.test("an AsyncResult shows itself in a notebook", async (t) => {
  await withClient({ workers: 2 }, async (client) => {
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const ar = client.view().applyAsync((g: Int32Array) => {
      publishData({ a: new Float64Array([0.5, 1.5, 2.5, 3.5, 4.5]), i: 3 });
      Atomics.wait(g, 0, 0, 10_000);
      return engineId;
    }, gate);

    await t.step("while it runs: progress, engines, latest data", async () => {
      // Wait for both publications to arrive before looking.
      for await (const _ of ar.publications()) {
        if ((ar.data as Record<string, unknown>[]).every((d) => "i" in d)) {
          break;
        }
      }
      const bundle = display(ar);
      assert.match(bundle["text/plain"], /pending, 0\/2 done/);
      assert.match(bundle["text/plain"], /engine 1 task \d+: running/);
      assert.match(bundle["text/html"], /<progress value="0" max="2"/);
      assert.match(
        bundle["text/html"],
        /Float64Array\(5\) \[0\.5, 1\.5, 2\.5, 3\.5, …\]/,
      );
      assert.match(bundle["text/html"], /i: 3/);
    });

    await t.step(
      "when done: done, and what each engine ended with",
      async () => {
        Atomics.store(gate, 0, 1);
        Atomics.notify(gate, 0);
        assert.deepEqual(await ar, [0, 1]);
        const bundle = display(ar);
        assert.match(bundle["text/plain"], /done, 2\/2 done/);
        assert.match(bundle["text/html"], /<td>ok<\/td>/);
      },
    );
  });
});

Deno.test("console.log(ar) and Deno.inspect show state, engines, progress, elapsed", async (t) => {
  await withClient({ workers: 2 }, async (client) => {
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const ar = client.view().applyAsync((g: Int32Array) => {
      if (engineId === 1) Atomics.wait(g, 0, 0, 10_000);
      return engineId;
    }, gate);

    await t.step("pending, with what is done so far", async () => {
      await until(() => ar.progress === 1, "engine 0's task");
      assert.match(
        Deno.inspect(ar),
        /^AsyncResult \{ pending, engines \[0, 1\], 1\/2 done, \d+ ms \}$/,
      );
    });

    await t.step("the same in util.inspect and inside other values", () => {
      assert.match(inspect(ar), /^AsyncResult \{ pending, engines \[0, 1\]/);
      assert.match(Deno.inspect({ ar }), /\{ ar: AsyncResult \{ pending, /);
    });

    await t.step("done once every engine has answered", async () => {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      assert.deepEqual(await ar, [0, 1]);
      assert.match(Deno.inspect(ar), /^AsyncResult \{ done, .* 2\/2 done, /);
    });

    await t.step("failed, naming the error", async () => {
      const failing = client.view(1).applyAsync(() => {
        throw new Error("boom");
      });
      await failing.wait();
      failing.successful(); // Seen: the client must not warn of it.
      assert.match(
        Deno.inspect(failing),
        /^AsyncResult \{ failed, engines \[1\], 1\/1 done, .*error RemoteError: engine 1, task \d+: Error: boom \}$/,
      );
    });
  });
});
