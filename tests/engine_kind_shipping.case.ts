/**
 * What can be shipped to an engine, the same on every kind of engine (part
 * of `engineKindCases` in engine_kind.case.ts): a built-in, bound function,
 * class or non-function is refused at once with a TypeError (nothing runs),
 * and method shorthand and the other forms of function work. On 3 engines.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type ClientSide,
  type EngineKind,
  engines,
  errorOf,
  stillWorks,
  suiteKind,
  withClientOn,
} from "./helpers.ts";

/**
 * Registers the cases on shipping functions that every kind of engine must
 * pass: one `Deno.test` whose name starts with `kind`, on a client of 3
 * engines of that kind that its steps share.
 *
 * @example
 * ```ts ignore
 * import { shippingCases } from "./engine_kind_shipping.case.ts";
 * shippingCases("worker");
 * ```
 */
export function shippingCases(
  kind: EngineKind,
  side: ClientSide = "embedded",
): void {
  Deno.test(`${suiteKind(kind, side)} engines: what can be shipped, on 3 engines`, async (t) => {
    await withClientOn(side, engines(kind, 3), async (client) => {
      assert.deepEqual(client.engines().map((e) => e.kind), [kind, kind, kind]);

      await t.step(
        "shipping a built-in, bound function, class or non-function throws TypeError at once",
        async () => {
          const view = client.view();
          const doneBefore = client.engines().map((s) => s.tasksDone);

          assert.throws(
            () => view.applyAsync(Math.max, 1, 2),
            (e: unknown) =>
              e instanceof TypeError && /max/.test(e.message) &&
              /built-in/.test(e.message) && /cannot be shipped/.test(e.message),
          );

          function inc(x: number) {
            return x + 1;
          }
          const bound = inc.bind(null);
          assert.throws(
            () => view.applyAsync(bound, 1),
            (e: unknown) =>
              e instanceof TypeError && /bound/.test(e.message) &&
              /cannot be shipped/.test(e.message),
          );

          class Point {
            constructor(public x = 0) {}
          }
          assert.throws(
            () => view.applyAsync(Point as unknown as () => Point),
            (e: unknown) =>
              e instanceof TypeError && /Point/.test(e.message) &&
              /class/.test(e.message),
          );
          assert.throws(
            () => view.applyAsync(class {} as unknown as () => void),
            /class/,
          );

          for (const notFn of [42, "() => 1", null, undefined, { f: 1 }]) {
            assert.throws(
              () => view.applyAsync(notFn as unknown as () => void),
              (e: unknown) =>
                e instanceof TypeError && /must be a function/.test(e.message),
              `${String(notFn)}`,
            );
          }

          // nothing was sent
          assert.deepEqual(
            client.engines().map((s) => [s.tasksDone, s.load]),
            doneBefore.map((n) => [n, 0]),
          );
          await stillWorks(client);

          // the wrapper the message suggests must be valid code: for a bound
          // function it must not read "(x) => bound inc(x)"
          let boundError: unknown;
          try {
            view.applyAsync(bound, 1);
          } catch (e) {
            boundError = e;
          }
          assert.ok(boundError instanceof TypeError);
          assert.doesNotMatch(boundError.message, /=> bound /);
        },
      );

      await t.step(
        "a Deno built-in written in JavaScript (atob) is refused at once too",
        async () => {
          // Deno implements some globals in JavaScript, so their toString() is
          // (minified) source, not "[native code]"; shipping that source fails
          // on the engine with a ReferenceError about an internal name.
          assert.ok(!/native code/.test(atob.toString()));
          let error: unknown;
          let ar: PromiseLike<unknown> | undefined;
          try {
            ar = client.view(0).applyAsync(atob, "YQ==");
          } catch (e) {
            error = e;
          }
          const remote = ar && await errorOf(ar).catch((e) => e);
          assert.ok(
            error instanceof TypeError && /atob/.test(error.message) &&
              /cannot be shipped/.test(error.message),
            `applyAsync(atob) did not throw a TypeError; the task ended with ${
              remote instanceof Error ? remote.message : String(remote)
            }`,
          );
          await stillWorks(client);
        },
      );

      await t.step(
        "method-shorthand and other function forms work",
        async () => {
          const o = {
            f(x: number) {
              return x + 1;
            },
            async g(x: number) {
              await Promise.resolve();
              return x * 2;
            },
            "quoted name"(x: number) {
              return `q${x}`;
            },
          };
          assert.equal(await client.view(0).applySync(o.f, 1), 2);
          assert.deepEqual(await client.view().applySync(o.f, 1), [2, 2, 2]);
          assert.equal(await client.view(1).applySync(o.g, 4), 8);
          assert.equal(
            await client.view(2).applySync(o["quoted name"], 3),
            "q3",
          );

          function declared(x: number) {
            return x - 1;
          }
          assert.equal(await client.view(0).applySync(declared, 1), 0);
          class Maths {
            static triple(x: number) {
              return x * 3;
            }
          }
          assert.equal(await client.view(0).applySync(Maths.triple, 2), 6);
          assert.equal(
            await client.view(0).applySync(function (x: number) {
              return x * x;
            }, 5),
            25,
          );
          assert.equal(
            await client.view(0).applySync(
              async (x: number) => await Promise.resolve(x + 0.5),
              1,
            ),
            1.5,
          );
          await stillWorks(client);
        },
      );

      await t.step("a method named like a keyword (async) works", async () => {
        const o = {
          async(x: number) {
            return x + 1;
          },
        };
        assert.equal(await client.view(0).applySync(o.async, 1), 2);
        await stillWorks(client);
      });
    });
  });
}
