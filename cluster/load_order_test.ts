/**
 * The scheduler's engines by load: the choices it makes, and that they are
 * the ones a look at every engine made (the scheduler's former pass), over
 * seeded random work with direct tasks, deaths and marks of every kind.
 */

import assert from "node:assert/strict";
import { AdaptiveDepth } from "./adaptive_depth.ts";
import { LoadOrder } from "./load_order.ts";
import { rng } from "../tests/frame_streams.ts";
import { range } from "../tests/helpers.ts";

interface Engine {
  engineId: number;
  up: boolean;
  load: number;
}

const enginesOf = (n: number): Engine[] =>
  range(n).map((engineId) => ({ engineId, up: true, load: 0 }));

/** A task of `ms` ended on `engine`: it holds one less, and is fresh. */
function finish(depth: AdaptiveDepth<Engine>, engine: Engine, ms: number) {
  engine.load--;
  depth.finished(engine, { sentAt: 0, alone: false }, {
    started: 0,
    completed: ms,
  });
}

/** Hands `engine` a task, as the scheduler does. */
function handOut(
  order: LoadOrder<Engine>,
  depth: AdaptiveDepth<Engine>,
  engine: Engine,
) {
  depth.handOut(engine, engine.load);
  engine.load++;
  order.took(engine);
}

Deno.test("fixed marks: the least loaded with room, ties to the lowest id; a load raised unseen counts", () => {
  const depth = new AdaptiveDepth<Engine>();
  const order = new LoadOrder(depth);
  const engines = enginesOf(3);
  order.resync(engines);
  // A direct task the order was not told of.
  engines[0].load = 2;
  const chosen: number[] = [];
  for (let i = 0; i < 4; i++) {
    const engine = order.choose(2)!;
    chosen.push(engine.engineId);
    handOut(order, depth, engine);
  }
  assert.deepEqual(chosen, [1, 2, 1, 2]);
  assert.equal(order.choose(2), undefined, "every engine holds 2");
  assert.equal(order.choose(3)?.engineId, 0, "a higher mark: the first");
  order.endPass();
  assert.equal(order.size, 3);
});

Deno.test("adaptive: one task to an idle engine that did not just finish; a fresh one is filled to the depth at half", () => {
  const depth = new AdaptiveDepth<Engine>();
  const order = new LoadOrder(depth);
  const [a, b] = enginesOf(2);
  order.resync([a, b]);
  handOut(order, depth, order.choose("adaptive")!);
  handOut(order, depth, order.choose("adaptive")!);
  assert.equal(order.choose("adaptive"), undefined, "one each");
  order.endPass();
  // a finishes a tiny task: it is fresh, and the depth grows.
  finish(depth, a, 0.001);
  order.touch(a);
  const full = depth.depth;
  assert.ok(full > 2);
  let given = 0;
  for (let engine; (engine = order.choose("adaptive")); given++) {
    assert.equal(engine, a, "b, busy and not fresh, gets nothing");
    handOut(order, depth, engine);
  }
  assert.equal(a.load, full, "filled in one pass");
  order.endPass();
  // Not at half yet: nothing more.
  finish(depth, a, 0.001);
  order.touch(a);
  assert.equal(order.choose("adaptive"), undefined);
  order.endPass();
  // An engine left idle at the end of a pass is fresh no more.
  for (; a.load > 0;) finish(depth, a, 0.001);
  order.touch(a);
  order.endPass();
  assert.ok(!depth.isFresh(a));
  handOut(order, depth, order.choose("adaptive")!);
  assert.equal(order.choose("adaptive"), undefined, "a took one, b is busy");
});

Deno.test("targets limit the choice; engines that go down leave until they are read again", () => {
  const depth = new AdaptiveDepth<Engine>();
  const order = new LoadOrder(depth);
  const engines = enginesOf(4);
  order.resync(engines);
  assert.equal(order.choose(1, new Set([2, 3]))?.engineId, 2);
  assert.equal(order.choose(1, new Set([9])), undefined, "no such engine");
  engines[2].up = false;
  assert.equal(order.choose(1, new Set([2, 3]))?.engineId, 3);
  assert.equal(order.size, 3, "engine 2 left when it was looked at");
  engines[0].up = false;
  assert.equal(order.choose(1)?.engineId, 1);
  assert.equal(order.size, 2);
  order.endPass();
  engines[0].up = true;
  engines[2].up = true;
  order.resync(engines);
  assert.equal(order.size, 4);
  assert.equal(order.choose(1)?.engineId, 0);
});

/**
 * The scheduler's former pass, kept as the reference: a map of every up
 * engine's load and adaptive limit, made at the start of each pass, and a
 * look at each engine per task.
 */
function formerPass(
  engines: Engine[],
  depth: AdaptiveDepth<Engine>,
  tasks: { mark: number | "adaptive"; targets?: Set<number> }[],
): number[] {
  const load = new Map<Engine, number>();
  const adaptive = new Map<Engine, number>();
  for (const engine of engines) {
    if (!engine.up) continue;
    load.set(engine, engine.load);
    adaptive.set(engine, depth.limit(engine, engine.load));
  }
  const chosen: number[] = [];
  for (const { mark, targets } of tasks) {
    let best: Engine | undefined;
    let bestLoad = Infinity;
    for (const [engine, n] of load) {
      if (targets && !targets.has(engine.engineId)) continue;
      const limit = mark === "adaptive" ? adaptive.get(engine)! : mark;
      if (n < bestLoad && n < limit) {
        best = engine;
        bestLoad = n;
      }
    }
    if (!best) {
      chosen.push(-1);
      if (!targets) break;
      continue;
    }
    load.set(best, bestLoad + 1);
    depth.handOut(best, best.load);
    best.load++;
    chosen.push(best.engineId);
  }
  depth.endPass((engine) => engine.load);
  return chosen;
}

for (const [n, seed] of [[3, 1], [8, 2], [64, 3]]) {
  Deno.test(`${n} engines: the same choices as a look at every engine, over seeded random work (seed ${seed})`, () => {
    const r = rng(seed);
    const former = {
      engines: enginesOf(n),
      depth: new AdaptiveDepth<Engine>(),
    };
    const now = { engines: enginesOf(n), depth: new AdaptiveDepth<Engine>() };
    const order = new LoadOrder(now.depth);
    order.resync(now.engines);
    const durations = [0.001, 0.01, 0.05, 1];
    for (let step = 0; step < 3000; step++) {
      // What happened since the last pass, the same in both worlds.
      const i = r.int(n);
      const ms = durations[r.int(durations.length)];
      const what = r.int(10);
      for (const world of [former, now]) {
        const engine = world.engines[i];
        if (what < 5 && engine.load > 0 && engine.up) {
          finish(world.depth, engine, ms);
          if (world === now) order.touch(engine);
        } else if (what === 5 && engine.up) {
          engine.load++; // a direct task, unseen
        } else if (what === 6 && engine.load > 0 && engine.up) {
          engine.load--; // a direct task ended: the cluster tells
          if (world === now) order.touch(engine);
        } else if (what === 7) {
          // A death fails what the engine held; it comes back later.
          engine.up = !engine.up;
          engine.load = 0;
          if (world === now) order.resync(now.engines);
        } else if (what === 8 && world === now) {
          order.resync(now.engines); // a sweep: nothing changes
        }
      }
      const tasks = range(r.int(6)).map(() => {
        const mark = r.next() < 0.7 ? "adaptive" as const : r.range(1, 4);
        const targets = r.next() < 0.2
          ? new Set(range(r.range(1, 3)).map(() => r.int(n)))
          : undefined;
        return { mark, targets };
      });
      const expected = formerPass(former.engines, former.depth, tasks);
      const chosen: number[] = [];
      for (const { mark, targets } of tasks) {
        const engine = order.choose(mark, targets);
        if (!engine) {
          chosen.push(-1);
          if (!targets) break;
          continue;
        }
        handOut(order, now.depth, engine);
        chosen.push(engine.engineId);
      }
      order.endPass();
      assert.deepEqual(chosen, expected, `step ${step}`);
      assert.deepEqual(
        now.engines.map((e) => e.load),
        former.engines.map((e) => e.load),
      );
    }
  });
}
