/**
 * How tasks fail, the same on every kind of engine (part of
 * `engineKindCases` in engine_kind.case.ts): every error must say what went
 * wrong and what to do, and the client must keep working afterwards. Worker
 * engines send errors by structured clone, process engines through the
 * codec; a user must not see the difference. On 3 engines, so that results
 * per engine in an order of the view's own are checked. What cannot be
 * shipped, and the forms of function that can: engine_kind_shipping.case.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CompositeError, engineId, RemoteError } from "../mod.ts";
import {
  type ClientSide,
  type EngineKind,
  engines,
  errorOf,
  stillWorks,
  suiteKind,
  withClientOn,
} from "./helpers.ts";

/** Exists on no engine (nor on the client): shipping a use of it must fail. */
declare const notOnTheEngines: number;

/** Checks the fields every RemoteError must carry. */
function assertRemote(
  e: Error,
  expected: { engineId: number; taskId: number; name: string },
): asserts e is RemoteError {
  assert.ok(e instanceof RemoteError, `${e.name}: ${e.message}`);
  assert.equal(e.name, "RemoteError");
  assert.equal(e.engineId, expected.engineId);
  assert.equal(e.taskId, expected.taskId);
  assert.equal(e.remoteName, expected.name);
  assert.ok(e.remoteMessage.length > 0, "empty remoteMessage");
  assert.ok(e.message.includes(`engine ${expected.engineId}`), e.message);
  assert.ok(e.message.includes(e.remoteMessage), e.message);
}

/**
 * Registers the cases on task errors that every kind of engine must pass:
 * one `Deno.test` whose name starts with `kind`, on a client of 3 engines of
 * that kind that its steps share.
 *
 * @example
 * ```ts ignore
 * import { errorCases } from "./engine_kind_errors.case.ts";
 * errorCases("worker");
 * ```
 */
export function errorCases(
  kind: EngineKind,
  side: ClientSide = "embedded",
): void {
  Deno.test(`${suiteKind(kind, side)} engines: task errors on 3 engines`, async (t) => {
    await withClientOn(side, engines(kind, 3), async (client) => {
      assert.deepEqual(client.engines().map((e) => e.kind), [kind, kind, kind]);
      await t.step("a task that throws gives a RemoteError", async () => {
        const ar = client.view(1).applyAsync((limit: number) => {
          throw new RangeError(`bad input: over ${limit}`);
        }, 10);
        const e = await errorOf(ar);
        assertRemote(e, {
          engineId: 1,
          taskId: ar.taskIds[0],
          name: "RangeError",
        });
        assert.equal(e.remoteMessage, "bad input: over 10");
        assert.ok(e.remoteStack.length > 0, "empty remoteStack");
        assert.match(e.remoteStack, /RangeError: bad input: over 10/);
        assert.equal(ar.successful(), false);
        assert.equal(ar.metadata.status, "error");
        assert.equal(ar.metadata.error, e);
        // the same error every time it is awaited
        assert.equal(await errorOf(ar.get()), e);
        await stillWorks(client);
      });

      await t.step("a task that rejects gives a RemoteError", async () => {
        const ar = client.view(2).applyAsync(async () => {
          await new Promise((r) => setTimeout(r, 1));
          throw new TypeError("async nope");
        });
        const e = await errorOf(ar);
        assertRemote(e, {
          engineId: 2,
          taskId: ar.taskIds[0],
          name: "TypeError",
        });
        assert.equal(e.remoteMessage, "async nope");
        assert.match(e.remoteStack, /TypeError: async nope/);

        const rejected = client.view(0).applyAsync(() =>
          Promise.reject(new Error("plain rejection"))
        );
        const e2 = await errorOf(rejected);
        assertRemote(e2, {
          engineId: 0,
          taskId: rejected.taskIds[0],
          name: "Error",
        });
        assert.equal(e2.remoteMessage, "plain rejection");

        const custom = client.view(0).applyAsync(() => {
          class ModelDiverged extends Error {
            override name = "ModelDiverged";
          }
          throw new ModelDiverged("step 7");
        });
        const e3 = await errorOf(custom);
        assert.ok(e3 instanceof RemoteError);
        assert.equal(e3.remoteName, "ModelDiverged");
        assert.equal(e3.remoteMessage, "step 7");
        await stillWorks(client);
      });

      await t.step("throwing a non-Error gives a RemoteError", async () => {
        const ar = client.view(0).applyAsync(() => {
          throw "boom";
        });
        const e = await errorOf(ar);
        assert.ok(e instanceof RemoteError, `${e.name}: ${e.message}`);
        assert.equal(e.engineId, 0);
        assert.equal(e.taskId, ar.taskIds[0]);
        assert.match(e.remoteMessage, /boom/);
        assert.match(e.message, /non-Error/);

        const obj = client.view(0).applyAsync(() =>
          Promise.reject({ code: 42 })
        );
        const e2 = await errorOf(obj);
        assert.ok(e2 instanceof RemoteError);
        assert.match(e2.remoteMessage, /non-Error/);
        await stillWorks(client);
      });

      await t.step(
        "some engines failing give a CompositeError that keeps the others' values",
        async () => {
          const ar = client.view().applyAsync(() => {
            if (engineId === 1) throw new Error("engine one fails");
            return engineId * 10;
          });
          const e = await errorOf(ar);
          assert.ok(e instanceof CompositeError, `${e.name}: ${e.message}`);
          assert.ok(e instanceof AggregateError);
          assert.equal(e.name, "CompositeError");
          assert.equal(e.errors.length, 1);
          const [only] = e.errors;
          assert.ok(only instanceof RemoteError);
          assert.equal(only.engineId, 1);
          assert.equal(only.taskId, ar.taskIds[1]);
          assert.equal(only.remoteMessage, "engine one fails");
          assert.deepEqual(e.results, [0, undefined, 20]);
          assert.match(e.message, /1 of 3 engines failed/);
          assert.match(e.message, /engine 1\b.*engine one fails/);
          assert.equal(ar.successful(), false);
          assert.deepEqual(ar.metadata.map((m) => m.status), [
            "ok",
            "error",
            "ok",
          ]);

          // several failures, in target order, each named in the message
          const two = client.view([2, 1, 0]).applyAsync(() => {
            if (engineId !== 1) throw new Error(`no luck on ${engineId}`);
            return "one";
          });
          const e2 = await errorOf(two);
          assert.ok(e2 instanceof CompositeError);
          assert.deepEqual(
            e2.errors.map((x: RemoteError) => x.engineId),
            [2, 0],
          );
          assert.deepEqual(e2.results, [undefined, "one", undefined]);
          assert.match(e2.message, /2 of 3 engines failed/);
          assert.match(e2.message, /engine 2\b.*no luck on 2/);
          assert.match(e2.message, /engine 0\b.*no luck on 0/);

          // a single-engine view gives the RemoteError itself
          const single = await errorOf(
            client.view(1).applyAsync(() => {
              throw new Error("alone");
            }),
          );
          assert.ok(single instanceof RemoteError);
          assert.ok(!(single instanceof CompositeError));
          await stillWorks(client);
        },
      );

      await t.step(
        "an undefined or captured variable: the error says to pass or push it",
        async () => {
          const ar = client.view(0).applyAsync(() => notOnTheEngines * 2);
          const e = await errorOf(ar);
          assertRemote(e, {
            engineId: 0,
            taskId: ar.taskIds[0],
            name: "ReferenceError",
          });
          assert.match(e.remoteMessage, /notOnTheEngines is not defined/);
          assert.match(e.remoteMessage, /pass notOnTheEngines as an argument/);
          assert.match(e.remoteMessage, /push/);

          const secret = 42;
          const captured = client.view(2).applyAsync(() => secret + 1);
          const e2 = await errorOf(captured);
          assert.ok(e2 instanceof RemoteError);
          assert.equal(e2.remoteName, "ReferenceError");
          assert.match(e2.remoteMessage, /secret is not defined/);
          assert.match(e2.remoteMessage, /pass secret as an argument/);
          assert.match(e2.remoteMessage, /push/);
          // and doing what it says works
          assert.equal(
            await client.view(2).applySync((s: number) => s + 1, secret),
            43,
          );
          await stillWorks(client);
        },
      );

      await t.step(
        "a result that cannot cross gives a RemoteError saying what and why",
        async () => {
          const results: [string, () => unknown][] = [
            ["is a function", () => () => 1],
            ["is a WeakMap", () => new WeakMap()],
            ["at .f, is a function (f)", () => ({ ok: 1, f: () => 2 })],
            ["is a symbol", () => Symbol("s")],
            ["is an instance of class Box", () => new (class Box {})()],
          ];
          for (const [what, task] of results) {
            const ar = client.view(1).applyAsync(task);
            const e = await errorOf(ar);
            assertRemote(e, {
              engineId: 1,
              taskId: ar.taskIds[0],
              name: "TypeError",
            });
            assert.ok(
              e.remoteMessage.startsWith(`the task's result`) &&
                e.remoteMessage.includes(`${what}, which cannot cross`),
              `${what}: ${e.remoteMessage}`,
            );
            assert.match(e.remoteMessage, /What crosses/);
          }
          await stillWorks(client);
        },
      );

      await t.step(
        "an argument that cannot cross throws a TypeError at once, and nothing runs",
        async () => {
          const doneBefore = client.engines().map((s) => s.tasksDone);
          const fnArg: unknown = () => 1;
          for (const view of [client.view(0), client.view()]) {
            assert.throws(
              () => view.applyAsync((f: unknown) => typeof f, 1, fnArg),
              (e: unknown) =>
                e instanceof TypeError &&
                /^argument 2 is a function \(fnArg\), which cannot cross/
                  .test(e.message) &&
                /moduleFunction/.test(e.message),
            );
          }
          assert.throws(
            () =>
              client.view(0).applyAsync(
                (s: unknown) => typeof s,
                Symbol("not cloneable") as unknown,
              ),
            /argument 1 is a symbol/,
          );
          assert.deepEqual(
            client.engines().map((s) => s.tasksDone),
            doneBefore,
            "nothing was sent",
          );
          await stillWorks(client);
        },
      );
    });
  });
}
