import assert from "node:assert/strict";
import type { SubmittedTask } from "../cluster/cluster.ts";
import { EngineError } from "../protocol/errors.ts";
import type { WireTaskEvent } from "../remote/wire.ts";
import { fromWireError } from "../remote/wire_errors.ts";
import { History } from "./history.ts";
import { type Follower, LiveTasks } from "./live_tasks.ts";

/** A session's part: it keeps what it is told. */
function follower(): Follower & { got: WireTaskEvent[] } {
  const got: WireTaskEvent[] = [];
  return { got, event: (e) => got.push(e) };
}

const BASE = 2 ** 32;

function task(
  taskId: number,
  placement: SubmittedTask["placement"] = { balanced: { retries: 0 } },
): SubmittedTask {
  return {
    taskId,
    fn: { kind: "source", source: "() => 1" },
    args: [],
    placement,
  };
}

function withLive(
  body: (live: LiveTasks, history: History, lines: string[]) => void,
  options: { maxStreamBytes?: number; maxValueBytes?: number } = {},
): void {
  const history = History.open({ path: ":memory:", ...options });
  const lines: string[] = [];
  try {
    body(
      new LiveTasks({
        clusterId: "t",
        history,
        maxStreamBytes: options.maxStreamBytes,
        log: (line) => lines.push(line),
      }),
      history,
      lines,
    );
  } finally {
    history.close();
  }
}

Deno.test("live tasks: events reach the submitter and every follower", () => {
  withLive((live, history) => {
    const submitter = follower();
    const later = follower();
    const listener = live.listenerFor(task(BASE + 1), 1, submitter);
    assert.ok(live.known(BASE + 1));
    listener.assigned(1);
    listener.started();
    listener.stream("stdout", "one\n");
    listener.publish({
      engineId: 1,
      taskId: BASE + 1,
      seq: 1,
      time: 0,
      data: { a: 1, i: 0 },
    });
    listener.publish({
      engineId: 1,
      taskId: BASE + 1,
      seq: 2,
      time: 1,
      data: { i: 1 },
    });
    live.follow([BASE + 1], later);
    // The replay: engine, start, output so far, data merged.
    assert.deepEqual(later.got.map((e) => e.kind), [
      "assigned",
      "started",
      "stream",
      "publish",
    ]);
    const merged = later.got[3] as Extract<WireTaskEvent, { kind: "publish" }>;
    assert.deepEqual(merged.publication.data, { a: 1, i: 1 });
    listener.stream("stderr", "two\n");
    listener.done({
      ok: false,
      error: new EngineError("killed", { engineId: 1 }),
    });
    assert.equal(live.size, 0);
    for (const f of [submitter, later]) {
      const done = f.got.at(-1);
      assert.ok(done?.kind === "done" && !done.outcome.ok);
      assert.ok(fromWireError(done.outcome.error) instanceof EngineError);
    }
    assert.equal(submitter.got.length, 7);
    assert.equal(later.got.length, 6);
    assert.equal(history.get(BASE + 1)?.state, "error");
  });
});

Deno.test("live tasks: a follower that is forgotten hears no more", () => {
  withLive((live) => {
    const gone = follower();
    const listener = live.listenerFor(task(BASE + 1, { engineId: 0 }), 1, gone);
    live.forget(gone);
    listener.started();
    listener.done({ ok: true, value: 1, started: 1, completed: 2 });
    assert.deepEqual(gone.got, []);
    // The direct task's engine is known from its placement.
    const late = follower();
    live.follow([BASE + 1], late);
    assert.deepEqual(late.got.map((e) => e.kind), [
      "assigned",
      "started",
      "done",
    ]);
    assert.equal((late.got[0] as { engineId: number }).engineId, 0);
  });
});

Deno.test("live tasks: the replayed output is bounded as the history's", () => {
  withLive((live) => {
    const listener = live.listenerFor(task(BASE + 1), 1, follower());
    listener.started();
    for (let i = 0; i < 10; i++) listener.stream("stdout", "0123456789");
    const late = follower();
    live.follow([BASE + 1], late);
    const out = late.got.find((e) => e.kind === "stream") as Extract<
      WireTaskEvent,
      { kind: "stream" }
    >;
    assert.ok(out.text.startsWith("0123456789".repeat(3)));
    assert.match(out.text, /the rest of this task's output is not kept/);
    assert.ok(!out.text.startsWith("0123456789".repeat(4)));
    listener.done({ ok: true, value: 1, started: 1, completed: 2 });
  }, { maxStreamBytes: 35 });
});

Deno.test("live tasks: the replayed output is bounded in UTF-8 bytes, never half a pair", () => {
  withLive((live) => {
    const listener = live.listenerFor(task(BASE + 1), 1, follower());
    listener.started();
    // 4 bytes each in UTF-8, 2 code units: 10 bytes hold two and a half.
    for (let i = 0; i < 5; i++) listener.stream("stdout", "😀");
    const late = follower();
    live.follow([BASE + 1], late);
    const out = late.got.find((e) => e.kind === "stream") as Extract<
      WireTaskEvent,
      { kind: "stream" }
    >;
    const [kept] = out.text.split("\n[troupe:");
    assert.equal(kept, "😀😀");
    assert.match(out.text, /the rest of this task's output is not kept/);
    listener.done({ ok: true, value: 1, started: 1, completed: 2 });
  }, { maxStreamBytes: 10 });
});

Deno.test("live tasks: a value the history did not keep is said so", () => {
  withLive((live) => {
    const listener = live.listenerFor(task(BASE + 1), 1, follower());
    listener.done({
      ok: true,
      value: "x".repeat(5000),
      started: 1,
      completed: 2,
    });
    const late = follower();
    live.follow([BASE + 1], late);
    const done = late.got.at(-1);
    assert.ok(done?.kind === "done" && !done.outcome.ok);
    assert.match(
      done.outcome.error.message,
      /succeeded, but the history did not keep its value/,
    );
  }, { maxValueBytes: 1000 });
});

Deno.test('live tasks: a note about the arguments that says "value" leaves an ok task ok on replay', () => {
  withLive((live) => {
    // Not storable: the note names the path, "at [0].value".
    const submitted = { ...task(BASE + 1), args: [{ value: () => 1 }] };
    const listener = live.listenerFor(submitted, 1, follower());
    listener.done({ ok: true, value: 7, started: 1, completed: 2 });
    const late = follower();
    live.follow([BASE + 1], late);
    const done = late.got.at(-1);
    assert.ok(done?.kind === "done", `a done event (got ${done?.kind})`);
    assert.ok(done.outcome.ok, "the task stays ok");
    assert.equal(done.outcome.value, 7);
  });
});

Deno.test("live tasks: a task the history cannot record still runs", () => {
  withLive((live, history, lines) => {
    history.close(); // Every write fails from now on.
    const submitter = follower();
    const listener = live.listenerFor(task(BASE + 1), 1, submitter);
    listener.started();
    listener.done({ ok: true, value: 3, started: 1, completed: 2 });
    assert.deepEqual(submitter.got.map((e) => e.kind), ["started", "done"]);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], /could not record task 4294967297/);
  });
});

Deno.test("live tasks: an ended task as a dependency, from the history", () => {
  withLive((live) => {
    const done = (id: number, outcome: Parameters<typeof listenerDone>[1]) =>
      listenerDone(live.listenerFor(task(id), 1, follower()), outcome);
    done(BASE + 1, { ok: true, value: [1, 2], started: 1, completed: 2 });
    done(BASE + 2, {
      ok: true,
      value: "x".repeat(400),
      started: 1,
      completed: 2,
    });
    done(BASE + 3, {
      ok: false,
      error: new EngineError("gone", { engineId: 0 }),
    });
    const one = live.ended(BASE + 1);
    assert.ok(!(one instanceof Error) && one.outcome.ok);
    assert.deepEqual(one.outcome.value, [1, 2]);
    assert.equal(one.valueLost, undefined);
    const big = live.ended(BASE + 2);
    assert.ok(!(big instanceof Error) && big.outcome.ok);
    assert.match(
      big.valueLost!,
      /pass the value itself, or raise maxValueBytes/,
    );
    const failed = live.ended(BASE + 3);
    assert.ok(!(failed instanceof Error) && !failed.outcome.ok);
    // The history keeps the error itself, its class and fields: without
    // its stack, which took it past maxValueBytes.
    assert.ok(failed.outcome.error instanceof EngineError);
    assert.equal(failed.outcome.error.engineId, 0);
    assert.equal(failed.outcome.error.reason, "gone");
    assert.match(failed.outcome.error.message, /engine 0 died \(gone\)/);
    const missing = live.ended(BASE + 9);
    assert.ok(missing instanceof RangeError, String(missing));
  }, { maxValueBytes: 300 });
});

function listenerDone(
  listener: ReturnType<LiveTasks["listenerFor"]>,
  outcome: Parameters<ReturnType<LiveTasks["listenerFor"]>["done"]>[0],
): void {
  listener.assigned(0);
  listener.done(outcome);
}
