import assert from "node:assert/strict";
import { HandedOut } from "./handed_out.ts";
import type { ScheduledTask, SchedulerMessage } from "./scheduler_types.ts";

Deno.test("HandedOut: started and stream reach the task's observer; done and handBack come back to the scheduler as messages", () => {
  const heard: string[] = [];
  const told: SchedulerMessage[] = [];
  const task: ScheduledTask = {
    taskId: 7,
    fn: { kind: "source", source: "() => 1" },
    args: [],
    retries: 0,
    observer: {
      assigned: () => void heard.push("assigned"),
      started: () => void heard.push("started"),
      stream: (name, text) => void heard.push(`${name} ${text}`),
      publish: () => void heard.push("publish"),
      done: () => void heard.push("done"),
    },
  };
  const handed = new HandedOut(task, { tell: (m) => void told.push(m) });
  handed.started();
  handed.stream("stderr", "careful");
  const outcome = { ok: true, value: 1, started: 0, completed: 1 } as const;
  handed.done(outcome);
  handed.handBack();
  assert.deepEqual(heard, ["started", "stderr careful"]);
  assert.deepEqual(told, [
    { kind: "finished", task, outcome },
    { kind: "handedBack", task },
  ]);
});
