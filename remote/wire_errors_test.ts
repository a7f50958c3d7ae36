import assert from "node:assert/strict";
import {
  ClientClosedError,
  CompositeError,
  ControllerLostError,
  EngineError,
  QueueFullError,
  RemoteError,
  TaskAbortedError,
  TimeoutError,
  UnmetDependencyError,
} from "../protocol/errors.ts";
import { decodeValue, encodeValue } from "../transport/codec.ts";
import { fromWireError, toWireError } from "./wire_errors.ts";
import type { WireError } from "./wire.ts";

/** `error` through the wire as the controller sends it: msgpack both ways. */
function crossed(error: Error): Error {
  const wire = decodeValue(encodeValue(toWireError(error))) as WireError;
  return fromWireError(wire);
}

function assertSame(back: Error, error: Error): void {
  assert.equal(back.name, error.name);
  assert.equal(back.message, error.message);
  assert.equal(back.stack, error.stack);
}

Deno.test("wire errors: troupe's classes come back with their fields", () => {
  const engine = new EngineError("it exited with code 3", {
    engineId: 2,
    taskId: 7,
  });
  const back = crossed(engine);
  assert.ok(back instanceof EngineError);
  assertSame(back, engine);
  assert.equal(back.engineId, 2);
  assert.equal(back.taskId, 7);
  assert.equal(back.reason, "it exited with code 3");

  const remote = new RemoteError(
    { name: "TypeError", message: "x is not a function", stack: "at f" },
    { engineId: 1, taskId: 9, hint: "push x first" },
  );
  const r = crossed(remote);
  assert.ok(r instanceof RemoteError);
  assertSame(r, remote);
  assert.deepEqual(
    [r.engineId, r.taskId, r.remoteName, r.remoteMessage, r.remoteStack],
    [1, 9, "TypeError", "x is not a function", "at f"],
  );

  const timeout = crossed(new TimeoutError("no engine within 5 ms"));
  assert.ok(timeout instanceof TimeoutError);
  assert.equal(timeout.message, "no engine within 5 ms");

  const aborted = crossed(new TaskAbortedError({ taskId: 4, engineId: 0 }));
  assert.ok(aborted instanceof TaskAbortedError);
  assert.equal(aborted.taskId, 4);
  assert.equal(aborted.engineId, 0);
  const queued = crossed(new TaskAbortedError({ taskId: 5 }));
  assert.ok(queued instanceof TaskAbortedError);
  assert.equal(queued.engineId, undefined);

  const full = new QueueFullError({ maxQueue: 3, queued: 2, adding: 2 });
  const f = crossed(full);
  assert.ok(f instanceof QueueFullError);
  assertSame(f, full);
  assert.deepEqual([f.maxQueue, f.queued], [3, 2]);

  const closed = new ClientClosedError({ what: "scale" });
  const c = crossed(closed);
  assert.ok(c instanceof ClientClosedError);
  assertSame(c, closed);

  const lost = new ControllerLostError({ controller: "sim", why: "reset" });
  const l = crossed(lost);
  assert.ok(l instanceof ControllerLostError);
  assertSame(l, lost);
  assert.equal(l.controller, "sim");
  assert.equal(l.why, "reset");

  const unmet = new UnmetDependencyError({
    taskId: 9,
    dependency: 8,
    cause: new TaskAbortedError({ taskId: 8 }),
  });
  const u = crossed(unmet);
  assert.ok(u instanceof UnmetDependencyError);
  assertSame(u, unmet);
  assert.equal(u.taskId, 9);
  assert.equal(u.dependency, 8);
  assert.ok(u.cause instanceof TaskAbortedError);
  assert.equal(u.cause.taskId, 8);
});

Deno.test("wire errors: a CompositeError keeps its errors and results", () => {
  const composite = new CompositeError(
    [new EngineError("killed", { engineId: 1 }), new RangeError("too big")],
    [10, undefined, 30],
  );
  const back = crossed(composite);
  assert.ok(back instanceof CompositeError);
  assert.ok(back instanceof AggregateError);
  assertSame(back, composite);
  assert.deepEqual(back.results, [10, undefined, 30]);
  assert.equal(back.errors.length, 2);
  assert.ok(back.errors[0] instanceof EngineError);
  assert.equal(back.errors[0].engineId, 1);
  assert.ok(back.errors[1] instanceof RangeError);
  assert.equal(back.errors[1].message, "too big");
});

Deno.test("wire errors: built-ins by name, others keep their name", () => {
  for (const error of [new TypeError("t"), new RangeError("r")]) {
    const back = crossed(error);
    assert.equal(back.constructor, error.constructor);
    assertSame(back, error);
  }
  const aggregate = crossed(new AggregateError([new SyntaxError("s")], "a"));
  assert.ok(aggregate instanceof AggregateError);
  assert.ok(aggregate.errors[0] instanceof SyntaxError);

  class SimulationDiverged extends Error {
    constructor() {
      super("step 40 diverged");
      this.name = "SimulationDiverged";
    }
  }
  const own = crossed(new SimulationDiverged());
  assert.ok(own instanceof Error);
  assert.equal(own.name, "SimulationDiverged");
  assert.equal(own.message, "step 40 diverged");
});

Deno.test("wire errors: a cause that is an error crosses too", () => {
  const error = new Error("outer", {
    cause: new EngineError("lost", { engineId: 3 }),
  });
  const back = crossed(error);
  assert.ok(back.cause instanceof EngineError);
  assert.equal(back.cause.engineId, 3);
  // A name that only looks like troupe's is not taken for it.
  const impostor = new Error("not ours");
  impostor.name = "EngineError";
  assert.equal(toWireError(impostor).fields, undefined);
});
