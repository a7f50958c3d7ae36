/**
 * Values crossing to engines and back, the same on every kind of engine
 * (part of `engineKindCases` in engine_kind.case.ts): structured types keep
 * their type both ways (Map, Set, Date, BigInt, undefined, -0, every typed
 * array), values made on the engine arrive with theirs, and large typed
 * arrays cross intact without detaching the caller's, up to 80 MB. Worker
 * engines use structured clone, process engines the codec
 * (transport/codec.ts); a user must not see the difference.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type ClientSide,
  type EngineKind,
  engines,
  guard,
  suiteKind,
  withClientOn,
} from "./helpers.ts";
import { TYPED_ARRAYS } from "../transport/typed_arrays.ts";

/** Generous bound for anything that should take well under a second. */
const HANG_MS = 20_000;

/**
 * Registers the cases on values crossing that every kind of engine must
 * pass: one `Deno.test` whose name starts with `kind`, on a client of 2
 * engines of that kind that its steps share.
 *
 * @example
 * ```ts ignore
 * import { valueCases } from "./engine_kind_values.case.ts";
 * valueCases("process");
 * ```
 */
export function valueCases(
  kind: EngineKind,
  side: ClientSide = "embedded",
): void {
  Deno.test(`${suiteKind(kind, side)} engines: values cross both ways with their types`, async (t) => {
    await withClientOn(side, engines(kind, 2), async (client) => {
      assert.deepEqual(client.engines().map((e) => e.kind), [kind, kind]);

      await t.step("structured types cross both ways", async () => {
        const date = new Date("2024-02-29T12:34:56.789Z");
        const value = {
          map: new Map<unknown, unknown>([["k", 1], [2, [3n, undefined]]]),
          set: new Set([1, "two", 3n]),
          date,
          big: -(2n ** 70n),
          undef: undefined,
          list: [1, undefined, null, "x"],
          f64: new Float64Array([1.5, -0, NaN, Infinity]),
          f32: new Float32Array([0.25, -2]),
          i8: new Int8Array([-128, 127]),
          u8: new Uint8Array([0, 255]),
          u8c: new Uint8ClampedArray([7]),
          i16: new Int16Array([-32768]),
          u16: new Uint16Array([65535]),
          i32: new Int32Array([-(2 ** 31)]),
          u32: new Uint32Array([2 ** 32 - 1]),
          bi64: new BigInt64Array([-(2n ** 63n)]),
          bu64: new BigUint64Array([2n ** 64n - 1n]),
          nested: { deep: [{ m: new Map([["a", new Set([1])]]) }] },
        };
        // What the engine sees, checked there; then it echoes the value back
        // and builds fresh ones of its own.
        const ar = client.view(0).applyAsync((v: typeof value) => {
          const seen = {
            map: v.map instanceof Map && v.map.get("k") === 1,
            set: v.set instanceof Set && v.set.has(3n),
            date: v.date instanceof Date && v.date.getTime() === 1709210096789,
            big: typeof v.big === "bigint",
            undef: "undef" in v && v.undef === undefined,
            hole: v.list[1] === undefined && v.list[2] === null,
            f64: v.f64 instanceof Float64Array && Object.is(v.f64[1], -0) &&
              Number.isNaN(v.f64[2]),
            bu64: v.bu64 instanceof BigUint64Array,
          };
          return {
            seen,
            echo: v,
            made: {
              map: new Map([[1, "one"]]),
              set: new Set(["s"]),
              date: new Date(0),
              big: 12345678901234567890n,
              undef: undefined,
              f64: new Float64Array([3.25]),
            },
          };
        }, value);
        const got = await guard(ar, "structured echo", HANG_MS);
        assert.deepEqual(got.seen, {
          map: true,
          set: true,
          date: true,
          big: true,
          undef: true,
          hole: true,
          f64: true,
          bu64: true,
        });
        assert.deepEqual(got.echo, value);
        for (const [k, v] of Object.entries(value)) {
          const back = (got.echo as Record<string, unknown>)[k];
          if (v !== null && typeof v === "object") {
            assert.equal(
              (back as object).constructor,
              v.constructor,
              `${k} came back as another type`,
            );
          }
        }
        assert.ok("undef" in got.echo);
        assert.ok(Object.is(got.echo.f64[1], -0));
        assert.deepEqual(got.made, {
          map: new Map([[1, "one"]]),
          set: new Set(["s"]),
          date: new Date(0),
          big: 12345678901234567890n,
          undef: undefined,
          f64: new Float64Array([3.25]),
        });
        assert.ok("undef" in got.made);
      });

      await t.step("an 80 MB Float64Array goes there and back", async () => {
        const n = 10 * 2 ** 20; // 80 MiB of float64
        const arg = new Float64Array(n);
        for (let i = 0; i < n; i++) arg[i] = i * 0.5;
        const ar = client.view(0).applyAsync((a: Float64Array) => {
          let bad = -1;
          for (let i = 0; i < a.length; i++) {
            if (a[i] !== i * 0.5) {
              bad = i;
              break;
            }
          }
          const out = new Float64Array(a.length);
          for (let i = 0; i < a.length; i++) out[i] = a[i] * 2 + 1;
          return {
            length: a.length,
            isF64: a instanceof Float64Array,
            bad,
            out,
          };
        }, arg);
        const got = await guard(ar, "80 MB round trip", 60_000);
        assert.equal(got.length, n);
        assert.equal(got.isF64, true);
        assert.equal(got.bad, -1, `the engine saw a wrong value at ${got.bad}`);
        assert.ok(got.out instanceof Float64Array);
        assert.equal(got.out.length, n);
        let bad = -1;
        for (let i = 0; i < n; i++) {
          if (got.out[i] !== i + 1) {
            bad = i;
            break;
          }
        }
        assert.equal(bad, -1, `wrong value at ${bad}: ${got.out[bad]}`);
        // The engine is still fine.
        assert.equal(
          await guard(client.view(0).applyAsync(() => 1), "after", HANG_MS),
          1,
        );
      });
      await t.step("values cross both ways with their types", async () => {
        const value = {
          n: 1.5,
          negZero: -0,
          nan: NaN,
          inf: -Infinity,
          big: 2n ** 70n,
          s: "héllo ✓ 𝄞",
          b: true,
          nil: null,
          undef: undefined,
          nested: { a: [1, [2, { b: "c" }]], empty: {} },
          map: new Map<unknown, unknown>([["k", 1], [2, { x: [3] }]]),
          set: new Set<unknown>([1, "two", 3]),
          date: new Date(1_700_000_000_000),
          f64: new Float64Array([1.5, -2.25, Math.PI]),
          u8: new Uint8Array([0, 255]),
          i32: Int32Array.of(-1, 2),
        };
        const echoed = await client.view(0).applySync(
          (v: typeof value) => v,
          value,
        );
        assert.deepEqual(echoed, value);
        assert.ok(echoed.map instanceof Map);
        assert.ok(echoed.set instanceof Set);
        assert.ok(echoed.date instanceof Date);
        assert.ok(echoed.f64 instanceof Float64Array);

        // the engine sees the same types the client sent
        const kinds = await client.view(1).applySync(
          (v: typeof value) => [
            v.map instanceof Map && v.map.get(2) !== undefined,
            v.set instanceof Set && v.set.has("two"),
            v.date instanceof Date && v.date.getTime(),
            v.f64 instanceof Float64Array && v.f64[2],
            typeof v.big,
            Object.is(v.negZero, -0),
          ],
          value,
        );
        assert.deepEqual(kinds, [
          true,
          true,
          1_700_000_000_000,
          Math.PI,
          "bigint",
          true,
        ]);

        // values made on the engine arrive with their types
        const made = await client.view(1).applySync(() => ({
          map: new Map([[1, "a"]]),
          set: new Set(["x"]),
          date: new Date(0),
          f64: new Float64Array([1, 2]),
          nothing: undefined,
        }));
        assert.deepEqual(made, {
          map: new Map([[1, "a"]]),
          set: new Set(["x"]),
          date: new Date(0),
          f64: new Float64Array([1, 2]),
          nothing: undefined,
        });
        assert.equal(
          await client.view(1).applySync(() => undefined),
          undefined,
        );
        assert.equal(await client.view(1).applySync(() => null), null);
      });

      await t.step(
        "every kind of typed array keeps its kind, Float16 too",
        async () => {
          const arrays = TYPED_ARRAYS.map((Ctor) =>
            Ctor === BigInt64Array || Ctor === BigUint64Array
              ? new Ctor([1n, 2n])
              : new (Ctor as Float64ArrayConstructor)([1.5, 2])
          );
          const kinds = await client.view(1).applySync(
            (list: ArrayBufferView[]) =>
              list.map((a) => [a.constructor.name, a.byteLength]),
            arrays,
          );
          assert.deepEqual(
            kinds,
            arrays.map((a) => [a.constructor.name, a.byteLength]),
          );
          const back = await client.view(1).applySync(
            (a: Float16Array) => a,
            new Float16Array([1.5, -2, 65504]),
          );
          assert.ok(back instanceof Float16Array, `got ${back}`);
          assert.deepEqual([...back], [1.5, -2, 65504]);
        },
      );

      await t.step(
        "large typed arrays cross intact; the caller's array is not detached",
        async () => {
          const n = 1_000_000;
          const big = new Float64Array(n);
          for (let i = 0; i < n; i++) big[i] = i * 0.5;
          const expectedSum = 0.5 * (n * (n - 1) / 2);

          const seen = await client.view().applySync((a: Float64Array) => {
            let sum = 0;
            for (let i = 0; i < a.length; i++) sum += a[i];
            return { isF64: a instanceof Float64Array, length: a.length, sum };
          }, big);
          for (const s of seen) {
            assert.deepEqual(s, { isF64: true, length: n, sum: expectedSum });
          }
          // still the caller's, untouched, after going to every engine
          assert.equal(big.length, n);
          assert.equal(big.buffer.byteLength, n * 8);
          assert.equal(big[n - 1], (n - 1) * 0.5);

          const back = await client.view(0).applySync(
            (a: Float64Array) => a,
            big,
          );
          assert.ok(back instanceof Float64Array);
          assert.equal(back.length, n);
          assert.notEqual(back, big);
          assert.equal(back[12_345], 12_345 * 0.5);
          assert.equal(back[n - 1], (n - 1) * 0.5);
          assert.equal(big.length, n, "the argument was detached");

          const made = await client.view(1).applySync(
            (len: number) => new Float64Array(len).fill(7),
            n,
          );
          assert.ok(made instanceof Float64Array);
          assert.equal(made.length, n);
          assert.equal(made[0] + made[n - 1], 14);

          // the same array twice stays one array; a large subarray keeps its window
          assert.equal(
            await client.view(1).applySync(
              (a: Float64Array, b: Float64Array) => a === b,
              big,
              big,
            ),
            true,
          );
          const part = big.subarray(250_000, 750_000);
          assert.deepEqual(
            await client.view(1).applySync(
              (a: Float64Array) => [a.length, a[0], a[a.length - 1]],
              part,
            ),
            [500_000, 125_000, 374_999.5],
          );
          assert.equal(part.length, 500_000);
          assert.equal(big.length, n);
        },
      );
    });
  });
}
