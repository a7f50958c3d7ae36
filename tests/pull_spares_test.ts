/**
 * An engine process's relay gives its task thread back the copy of a large
 * result once that copy is written to the socket (transport/spare_buffers.ts),
 * and the thread's next copy of that size goes into it: every pull still
 * carries the array as it is now, never a stale copy.
 */

import assert from "node:assert/strict";
import { until, withClient } from "./helpers.ts";

const SPARES = new URL("../transport/spare_buffers.ts", import.meta.url).href;
const N = 2 ** 18; // 2 MiB of Float64: above what is given back.

/** How many spare buffers of `bytes` the engine's task thread holds now. */
function sparesOnEngine(url: string, bytes: number): Promise<number> {
  return import(url).then((spares) => {
    const held: ArrayBuffer[] = [];
    for (let s = spares.takeSpare(bytes); s; s = spares.takeSpare(bytes)) {
      held.push(s);
    }
    for (const s of held.reverse()) spares.keepSpare(s);
    return held.length;
  });
}

Deno.test("process engine: pulls of a large array reuse the copy the relay gives back, each with the array's contents then", async () => {
  await withClient({ workers: 0, processes: 1 }, async (client) => {
    const one = client.view(client.ids[0]);
    const big = Float64Array.from({ length: N }, (_, i) => i);
    await one.push({ big });
    const count = () => one.applySync(sparesOnEngine, SPARES, N * 8);

    assert.deepEqual(await one.pull("big"), big);
    await until(async () => await count() === 1, "the first copy given back");

    await one.execute(`big[0] = -1; big[${N - 1}] = 42;`);
    const second = await one.pull("big") as Float64Array;
    big[0] = -1;
    big[N - 1] = 42;
    assert.deepEqual(second, big);
    // The second copy went into the first one's buffer: one spare, not two.
    await until(async () => await count() >= 1, "the second copy given back");
    assert.equal(await count(), 1);

    // Two arrays of that size in one result: both correct, both given back.
    await one.execute("other = big.map((x) => x * 2);");
    const [a, b] = await one.pull(["big", "other"]) as Float64Array[];
    assert.deepEqual(a, big);
    assert.deepEqual(b, big.map((x) => x * 2));
    await until(async () => await count() === 2, "both copies given back");
  });
});
