/**
 * The types that flow from a task function to its arguments and result, on
 * every kind of view and for module tasks and maps.
 *
 * This file is type-checked: the `@ts-expect-error` lines are part of the
 * test (an unused one is a type error).
 */

import assert from "node:assert/strict";
import { type Client, moduleFunction } from "../mod.ts";
import type * as tasks from "./fixtures/tasks.ts";

/**
 * Never called: `deno check` (and `deno test`, which type-checks) proves
 * that arguments and results are typed by the task function. Every
 * `@ts-expect-error` must be a real error, or checking fails.
 */
async function typeFlow(client: Client): Promise<void> {
  const add = (a: number, b: number) => a + b;
  const n: number = await client.view(0).applySync(add, 1, 2);
  const ns: number[] = await client.view().applySync(add, 1, 2);
  const nl: number[] = await client.view([0, 1]).applyAsync(add, 1, 2);
  const lb: number = await client.loadBalancedView().applySync(add, 1, 2);
  const s: string = await client.view(0).applyAsync(
    (x: number) => Promise.resolve(String(x)),
    1,
  );
  const m: string[] = await client.view().mapSync(
    (x: number) => `${x}`,
    [1],
  );
  const lm: boolean[] = await client.loadBalancedView().mapSync(
    (x: number) => x > 0,
    [1],
    { chunkSize: 1, ordered: false },
  );
  const added = moduleFunction<typeof tasks.addOffset>(
    new URL("./fixtures/tasks.ts", import.meta.url),
    "addOffset",
  );
  const mn: number = await client.view(0).applySync(added, 1);
  void [n, ns, nl, lb, s, m, lm, mn];

  // @ts-expect-error: a string where the function takes a number
  client.view(0).applyAsync(add, "1", 2);
  // @ts-expect-error: a missing argument
  client.view(0).applyAsync(add, 1);
  // @ts-expect-error: one argument too many
  client.view().applyAsync(add, 1, 2, 3);
  // @ts-expect-error: a string where the function takes a number
  client.loadBalancedView().applyAsync(add, 1, "2");
  // @ts-expect-error: a module function's parameters are typed too
  client.view(0).applySync(added, "1");
  // @ts-expect-error: a module function's parameters are typed on LB too
  client.loadBalancedView().applySync(added);
  // @ts-expect-error: a single view's result is not an array
  const notArray: number[] = await client.view(0).applySync(add, 1, 2);
  // @ts-expect-error: a multi view's result is an array
  const notSingle: number = await client.view().applySync(add, 1, 2);
  // @ts-expect-error: a load-balanced result is one value
  const notLbArray: number[] = await client.loadBalancedView().applySync(
    add,
    1,
    2,
  );
  // @ts-expect-error: the result is the function's (awaited) return type
  const notString: string = await client.view(0).applySync(add, 1, 2);
  // @ts-expect-error: a map gives an array of the function's values
  const notMapped: number[] = await client.view().mapSync(String, [1]);
  // @ts-expect-error: map options are typed
  client.loadBalancedView().mapAsync(add, [1], { chunkSize: "2" });
  void [notArray, notSingle, notLbArray, notString, notMapped];

  // Maps take one sequence per parameter, each of its parameter's type.
  const zipped: number[] = await client.loadBalancedView().mapSync(
    add,
    [1, 2],
    new Float64Array([3, 4]),
    { chunkSize: 1 },
  );
  const ignored: number[] = await client.loadBalancedView().mapSync(
    () => 0,
    [1, 2],
    ["a", "b"],
  );
  void [zipped, ignored];
  // @ts-expect-error: one sequence per parameter
  client.loadBalancedView().mapAsync(add, [1]);
  // @ts-expect-error: one sequence per parameter, options or not
  client.loadBalancedView().mapAsync(add, [1], { chunkSize: 1 });
  // @ts-expect-error: no more sequences than parameters
  client.loadBalancedView().mapAsync((x: number) => x, [1], [2]);
  // @ts-expect-error: each sequence holds its parameter's type
  client.loadBalancedView().mapAsync(add, [1], ["2"]);
  // @ts-expect-error: each sequence holds its parameter's type (direct)
  client.view().mapAsync(add, [1], ["2"]);
  // @ts-expect-error: options come last
  client.loadBalancedView().mapAsync(add, { chunkSize: 1 }, [1], [2]);
  const upper = (ch: string) => ch.toUpperCase();
  // @ts-expect-error: a string is not a sequence: [..."abc"] is
  client.view().mapAsync(upper, "abc");
  // @ts-expect-error: nor to a load-balanced map
  client.loadBalancedView().mapAsync(upper, "abc");
  // @ts-expect-error: nor to a parallel function
  client.loadBalancedView().parallel(upper)("abc");
  // @ts-expect-error: nor to scatter
  client.view().scatter("s", "abcd");
  const chars: string[] = await client.view().mapSync(upper, [..."abc"]);
  void chars;
}

Deno.test("arguments and results are typed by the task function", () => {
  // The checks are in typeFlow, which the type checker has passed by now.
  assert.equal(typeof typeFlow, "function");
});

// ------------------------------------------- several sequences, no engines
