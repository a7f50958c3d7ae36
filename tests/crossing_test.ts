/**
 * What crosses between the client and an engine, on both kinds of engine
 * (Worker threads get structured clones, engine processes msgpack): what is
 * listed arrives with its type; anything else is refused where it is handed
 * over, with where it is, what it is and what to do, never arriving as `{}`
 * or without its class.
 */

import assert from "node:assert/strict";
import {
  type Client,
  moduleFunction,
  publishData,
  RemoteError,
} from "../mod.ts";
import { errorOf, withClient } from "./helpers.ts";
import { MAX_DEPTH } from "../transport/crossable.ts";
import type * as points from "./fixtures/points.ts";
import { Point } from "./fixtures/points.ts";

/** One Worker engine and one engine process, by kind. */
function kinds(client: Client): { kind: string; id: number }[] {
  const engines = client.engines();
  const worker = engines.find((e) => e.kind === "worker");
  const process = engines.find((e) => e.kind === "process");
  assert.ok(worker && process, "a Worker engine and an engine process");
  return [
    { kind: "Worker", id: worker.engineId },
    { kind: "process", id: process.engineId },
  ];
}

/** Throws at once (no AsyncResult): a TypeError whose message has `parts`. */
function refusedAtOnce(call: () => unknown, ...parts: string[]): void {
  assert.throws(call, (error: unknown) => {
    assert.ok(error instanceof TypeError, `not a TypeError: ${error}`);
    for (const part of parts) {
      assert.ok(
        error.message.includes(part),
        `"${error.message}" should say "${part}"`,
      );
    }
    assert.match(error.message, /What crosses: numbers, strings/);
    return true;
  });
}

const identity = (value: unknown) => value;

Deno.test("values that cannot cross are refused at the call, on both kinds", async (t) => {
  await withClient({ workers: 1, processes: 1 }, async (client) => {
    const file = await Deno.open(import.meta.filename!);
    const done = () => client.engines().map((e) => e.tasksDone);
    const before = done();
    try {
      for (const { kind, id } of kinds(client)) {
        const dv = client.view(id);
        const lv = client.loadBalancedView();

        await t.step(
          `${kind}: host objects name the path and say to open them on the engine`,
          () => {
            const signal = new AbortController().signal;
            refusedAtOnce(
              () => dv.applyAsync(identity, { options: { signal } }),
              "argument 1, at .options.signal, is an AbortSignal",
              "on the engine",
            );
            const hosts: [unknown, string][] = [
              [new Response("body"), "is a Response"],
              [new Request("https://example.com"), "is a Request"],
              [file, "is a FsFile"],
              [new WeakMap(), "is a WeakMap"],
              [new Blob(["x"]), "is a Blob"],
            ];
            for (const [value, what] of hosts) {
              refusedAtOnce(
                () => dv.applyAsync((_: number, v: unknown) => v, 1, value),
                "argument 2",
                what,
              );
            }
            refusedAtOnce(
              () => dv.applyAsync(identity, Promise.resolve(1)),
              "a Promise",
              "Await it",
            );
            refusedAtOnce(
              () => dv.applyAsync(identity, Symbol("s")),
              "a symbol",
            );
          },
        );

        await t.step(
          `${kind}: a class instance is refused, with what to do instead`,
          () => {
            refusedAtOnce(
              () => dv.applyAsync((p: Point) => p.norm(), new Point(3, 4)),
              "argument 1 is an instance of class Point",
              "{ ...value }",
              "moduleFunction",
            );
          },
        );

        await t.step(
          `${kind}: a function argument points to moduleFunction`,
          () => {
            const helper = (x: number) => x + 1;
            refusedAtOnce(
              () => dv.applyAsync(identity, [1, helper]),
              "argument 1, at [1], is a function (helper)",
              "moduleFunction(",
            );
          },
        );

        await t.step(
          `${kind}: every way in is checked: map items, push, scatter, load-balanced`,
          async () => {
            const items = [1, 2, 3, new Point(0, 1), 5];
            refusedAtOnce(
              () => dv.mapAsync(identity, items),
              "item 3 is an instance of class Point",
            );
            refusedAtOnce(
              () =>
                dv.mapAsync((a: unknown, b: unknown) => [a, b], [1, 2], [3, {
                  f: () => 0,
                }]),
              "item 1 of sequence 2, at .f, is a function",
            );
            // push and scatter are async: they reject, as for their other
            // bad input, before anything is sent.
            const pushed = await errorOf(dv.push({ p: new Point(1, 1) }));
            assert.ok(pushed instanceof TypeError);
            assert.match(
              pushed.message,
              /the value pushed as "p" is an instance of class Point/,
            );
            const signal = new AbortController().signal;
            const scattered = await errorOf(dv.scatter("parts", [1, signal]));
            assert.match(
              scattered.message,
              /the value pushed as "parts", at \[\d\], is an AbortSignal/,
            );
            refusedAtOnce(
              () => lv.applyAsync(identity, new Point(1, 2)),
              "argument 1 is an instance of class Point",
            );
            const many = Array.from(
              { length: 40 },
              (_, i) => i === 33 ? new WeakMap() : i,
            );
            refusedAtOnce(
              () => lv.mapAsync(identity, many, { chunkSize: 4 }),
              "item 33 is a WeakMap",
            );
          },
        );
      }

      // Nothing that was refused reached an engine; they still work.
      assert.deepEqual(done(), before);
      for (const { id } of kinds(client)) {
        assert.equal(
          await client.view(id).applySync((x: number) => x + 1, 1),
          2,
        );
      }
    } finally {
      file.close();
    }
  });
});

Deno.test("what crosses arrives with its type, on both kinds", async () => {
  await withClient({ workers: 1, processes: 1 }, async (client) => {
    const cause = new RangeError("inner");
    const value = {
      n: [0, -0, 1.5, NaN, Infinity, -7],
      s: "text ü",
      b: [true, false],
      nothing: null,
      missing: undefined,
      big: -(2n ** 70n),
      plain: { a: { b: [1, [2, { c: 3 }]] } },
      bare: Object.assign(Object.create(null), { k: 1 }),
      map: new Map<unknown, unknown>([[1, "one"], ["k", new Set([1, 2])]]),
      set: new Set(["a", 3]),
      date: new Date(1_700_000_000_123),
      re: /a+b/gi,
      error: new TypeError("outer", { cause }),
      buffer: new Uint8Array([1, 2, 3]).buffer,
      small: new Int16Array([-1, 2]),
      large: new Float64Array(4096).map((_, i) => i / 2),
      view: new DataView(new Uint8Array([5, 6]).buffer),
    };
    const typeOf = (v: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(v).map((
          [k, x],
        ) => [k, Object.prototype.toString.call(x)]),
      );
    const expectedTypes = typeOf(value);
    for (const { id } of kinds(client)) {
      const dv = client.view(id);
      // The engine sees each type, not a look-alike rebuilt on the way back.
      assert.deepEqual(await dv.applySync(typeOf, value), expectedTypes);
      const back = await dv.applySync(identity, value) as typeof value;
      assert.deepStrictEqual(back.n, value.n);
      assert.ok(Object.is(back.n[1], -0));
      assert.equal(back.re.flags, "gi");
      assert.equal(back.re.source, "a+b");
      assert.ok(back.error instanceof TypeError);
      assert.ok(back.error.cause instanceof RangeError);
      assert.deepStrictEqual(back.large, value.large);
      assert.deepStrictEqual(back.map, value.map);
      assert.equal(back.bare.k, 1);
      // A subclass of a typed array (node's Buffer is one) is data: it
      // arrives as its built-in type.
      class Vector extends Float32Array {}
      assert.deepStrictEqual(
        await dv.applySync(identity, new Vector([1, 2])),
        new Float32Array([1, 2]),
      );
      // What the advice says works: plain data, rebuilt by a module that
      // the engine imports itself.
      const norm = moduleFunction<typeof points.norm>(
        new URL("./fixtures/points.ts", import.meta.url),
        "norm",
      );
      assert.equal(await dv.applySync(norm, { ...new Point(3, 4) }), 5);
    }
  });
});

Deno.test("cycles and shared objects cross both kinds as one object", async () => {
  await withClient({ workers: 1, processes: 1 }, async (client) => {
    const cyclic = { name: "loop", self: { back: undefined as unknown } };
    cyclic.self.back = cyclic;
    const point = { x: 1 };
    const dag = { a: point, b: [point, new Map([[point, point]])] };
    for (const { kind, id } of kinds(client)) {
      const dv = client.view(id);
      // Arguments: the engine sees the cycle and the shared object.
      const seen = await dv.applySync(
        (c: typeof cyclic, d: typeof dag) => [
          c.self.back === c,
          d.a === d.b[0] &&
          (d.b[1] as Map<unknown, unknown>).get(d.a) === d.a,
        ],
        cyclic,
        dag,
      );
      assert.deepEqual(seen, [true, true], kind);
      // Results: a cycle made on the engine comes back as a cycle.
      const ring = await dv.applySync(() => {
        const ring: { next?: unknown; list: unknown[] } = { list: [] };
        ring.next = { next: ring };
        ring.list.push(ring.list, ring);
        return ring;
      }) as { next: { next: unknown }; list: unknown[] };
      assert.equal(ring.next.next, ring, kind);
      assert.equal(ring.list[0], ring.list, kind);
      assert.equal(ring.list[1], ring, kind);
      // Publications: one that holds a cycle arrives, and the task is fine.
      const ar = dv.applyAsync(() => {
        const node: Record<string, unknown> = { i: 1 };
        node.self = node;
        publishData({ node });
        return "published";
      });
      assert.equal(await ar, "published");
      const node = (ar.data as { node: Record<string, unknown> }).node;
      assert.equal(node.self, node, kind);
      assert.equal(ar.stderr, "", kind);
    }
  });
});

Deno.test("nesting: one limit for both kinds, refused at the call with the limit", async () => {
  await withClient({ workers: 1, processes: 1 }, async (client) => {
    const nest = (levels: number) => {
      let v: unknown = "bottom";
      for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { v };
      return v;
    };
    const deepest = nest(MAX_DEPTH);
    for (const { kind, id } of kinds(client)) {
      const dv = client.view(id);
      assert.deepStrictEqual(
        await dv.applySync(identity, deepest),
        deepest,
        kind,
      );
      refusedAtOnce(
        () => dv.applyAsync(identity, nest(MAX_DEPTH + 1)),
        "argument 1, at ",
        `is nested more than ${MAX_DEPTH} levels deep`,
        "for every engine",
      );
      // A result as deep fails its task, on both kinds, naming the limit.
      const e = await errorOf(
        dv.applyAsync((levels: number) => {
          let v: unknown = 0;
          for (let i = 0; i < levels; i++) v = [v];
          return v;
        }, MAX_DEPTH + 1),
      );
      assert.ok(e instanceof RemoteError, `${kind}: ${e.message}`);
      assert.match(
        e.remoteMessage,
        new RegExp(`the task's result, at .*nested more than ${MAX_DEPTH}`),
      );
    }
  });
});

Deno.test("shared memory reaches Worker engines; engine processes refuse it saying so", async () => {
  await withClient({ workers: 1, processes: 1 }, async (client) => {
    const [worker, process] = kinds(client);
    const shared = { s: new Int32Array(new SharedArrayBuffer(4)) };
    await client.view(worker.id).applySync(
      (v: { s: Int32Array }) => void Atomics.store(v.s, 0, 7),
      shared,
    );
    assert.equal(shared.s[0], 7, "a Worker engine shares the memory");
    assert.ok(
      await client.view(worker.id).applySync(
        (b: unknown) => b instanceof SharedArrayBuffer,
        shared.s.buffer,
      ),
    );

    // A direct view knows its engines: refused at the call, nothing runs.
    refusedAtOnce(
      () => client.view(process.id).applyAsync(identity, shared.s.buffer),
      "argument 1 is a SharedArrayBuffer",
      "an engine process cannot",
    );
    refusedAtOnce(
      () => client.view().applyAsync(identity, { b: shared.s.buffer }),
      "argument 1, at .b, is a SharedArrayBuffer",
    );
    const pushed = await errorOf(
      client.view(process.id).push({ b: shared.s.buffer }),
    );
    assert.match(
      pushed.message,
      /^the value pushed as "b" is a SharedArrayBuffer.*an engine process cannot/,
    );
    // A load-balanced task learns when it is sent to an engine process; it
    // is not retried (no engine died).
    const lb = client.loadBalancedView([process.id], { retries: 2 });
    const sab = await errorOf(lb.applyAsync(identity, shared.s.buffer));
    assert.ok(sab instanceof TypeError, `${sab.name}: ${sab.message}`);
    assert.match(sab.message, /is a SharedArrayBuffer/);
    assert.match(sab.message, /an engine process cannot/);
    // A typed array over shared memory reaches a process as a copy.
    assert.deepStrictEqual(
      await client.view(process.id).applySync(identity, shared.s),
      new Int32Array([7]),
    );
    // A result: the task fails saying why.
    const back = await errorOf(
      client.view(process.id).applyAsync(() => new SharedArrayBuffer(8)),
    );
    assert.ok(back instanceof RemoteError, `${back.name}: ${back.message}`);
    assert.match(back.remoteMessage, /could not be sent to the client/);
    assert.match(back.remoteMessage, /is a SharedArrayBuffer/);
    assert.equal(await client.view(process.id).applySync(() => 1), 1);
    const [info] = client.engines().filter((e) => e.engineId === process.id);
    assert.equal(info.restarts, 0, "no engine died for it");
  });
});

Deno.test("results and publications that cannot cross fail their task with why, on both kinds", async (t) => {
  await withClient({ workers: 1, processes: 1 }, async (client) => {
    for (const { kind, id } of kinds(client)) {
      const dv = client.view(id);
      const fails = async (task: () => unknown, ...parts: RegExp[]) => {
        const e = await errorOf(dv.applyAsync(task));
        assert.ok(e instanceof RemoteError, `${e.name}: ${e.message}`);
        assert.equal(e.remoteName, "TypeError");
        for (const part of parts) assert.match(e.remoteMessage, part);
        assert.match(e.remoteMessage, /What crosses/);
      };

      await t.step(`${kind}: results`, async () => {
        await fails(
          () => {
            class Point {
              constructor(public x: number) {}
              norm() {
                return this.x;
              }
            }
            return { p: new Point(1) };
          },
          /the task's result, at \.p, is an instance of class Point/,
          /\{ \.\.\.value \}/,
        );
        await fails(() => new Response("x"), /the task's result is a Response/);
        await fails(
          () => [1, () => 2],
          /the task's result, at \[1\], is a function/,
        );
        await fails(() => new WeakMap(), /is a WeakMap/);
        await fails(() => AbortSignal.abort(), /is an AbortSignal/);
        // A map task's result names the item's place in its chunk (an
        // engine is not told where its chunk starts).
        const mapped = await errorOf(
          dv.mapAsync((x: number) => x === 2 ? Symbol("no") : x, [0, 1, 2]),
        );
        assert.match(
          mapped.message,
          /this map chunk's results, at \[\d\], is a symbol/,
        );
      });

      await t.step(`${kind}: publications`, async () => {
        const said = await dv.applySync(() => {
          try {
            publishData({ ok: 1, when: { p: new (class Sample {})() } });
            return "published";
          } catch (error) {
            return `${(error as Error).name}: ${(error as Error).message}`;
          }
        });
        assert.match(
          said as string,
          /^TypeError: the data given to publishData\(\), at \.when\.p, is an instance of class Sample/,
        );
        const ar = dv.applyAsync(() => {
          publishData({ fine: 1 });
          publishData({ bad: new Response("x") });
        });
        const e = await errorOf(ar);
        assert.match(
          e.message,
          /the data given to publishData\(\), at \.bad, is a Response/,
        );
        assert.deepEqual(ar.data, { fine: 1 }, "the good publication arrived");
      });
      assert.equal(await dv.applySync(() => "still fine"), "still fine");
    }
  });
});

Deno.test("a client helper used by a shipped function: the advice is moduleFunction, on both kinds", async () => {
  await withClient({ workers: 1, processes: 1 }, async (client) => {
    const helper = (x: number) => x + 1;
    const factor = 3;
    for (const { id } of kinds(client)) {
      const called = await errorOf(
        client.view(id).applyAsync((x: number) => helper(x), 1),
      );
      assert.ok(called instanceof RemoteError);
      assert.match(called.remoteMessage, /helper is not defined/);
      assert.match(
        called.remoteMessage,
        /define helper inside the shipped function/,
      );
      assert.match(called.remoteMessage, /moduleFunction\(new URL\(/);
      assert.doesNotMatch(called.remoteMessage, /pass helper as an argument/);
      const made = await errorOf(
        client.view(id).applyAsync(() => new Point(1, 2).norm()),
      );
      assert.match(
        (made as RemoteError).remoteMessage,
        /Point is not defined.*moduleFunction/,
      );
      // A value, not a function: passing it is still the advice, and works.
      const read = await errorOf(client.view(id).applyAsync(() => factor * 2));
      assert.match(
        (read as RemoteError).remoteMessage,
        /pass factor as an argument/,
      );
    }
  });
});
