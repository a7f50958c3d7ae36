import assert from "node:assert/strict";
import type { SpanRecord } from "../observe/span.ts";
import type { TaskListener } from "../cluster/cluster.ts";
import { TracedTask } from "./traced_task.ts";

Deno.test("a run timed by an engine whose clock is behind starts no earlier than its task", () => {
  const spans: SpanRecord[] = [];
  const sink = {
    export: (group: SpanRecord[]) => (spans.push(...group), true),
    engine: () => undefined,
  };
  const call = {
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    view: "direct" as const,
    fn: undefined,
    taskEnded() {},
  };
  const inner: TaskListener = {
    assigned() {},
    started() {},
    stream() {},
    publish() {},
    done() {},
  };
  const task = new TracedTask(sink, call, inner, 1, 0);
  task.started();
  // The engine's clock is 5 s behind the client's.
  const behind = Date.now() - 5000;
  task.done({ ok: true, value: 1, started: behind, completed: behind + 2 });
  const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
  const parent = byName["troupe.task"];
  for (const name of ["troupe.queue", "troupe.run"]) {
    assert.ok(byName[name].start >= parent.start, `${name} starts in its task`);
    assert.ok(byName[name].end >= byName[name].start);
    assert.ok(byName[name].end <= parent.end, `${name} ends in its task`);
  }
});
