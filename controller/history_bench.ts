/**
 * What the task history costs a controller per task (`deno bench`): 100 000
 * tiny tasks through their whole life (submitted, started, done, as the
 * controller's listener reports them), flushed every 5 000 tasks as the
 * 50 ms timer would at 100 000 tasks/s, into a database file in WAL mode.
 * Tasks/s is 100 000 divided by the time per iteration.
 *
 * @module
 */

import type { SubmittedTask } from "../cluster/cluster.ts";
import { History } from "./history.ts";

const TASKS = 100_000;
const FLUSH_EVERY = 5_000;

const dir = Deno.makeTempDirSync({ prefix: "troupe_history_bench_" });
globalThis.addEventListener("unload", () => {
  Deno.removeSync(dir, { recursive: true });
});

let nextId = 0;
const fn = { kind: "source", source: "(x) => x + 1" } as const;

/** Runs `TASKS` tasks through `history`; `extra` adds events to each. */
function run(history: History, extra?: (taskId: number) => void): void {
  const now = Date.now();
  for (let i = 1; i <= TASKS; i++) {
    const taskId = ++nextId;
    const task: SubmittedTask = {
      taskId,
      fn,
      args: [i],
      placement: { engineId: i % 2 },
    };
    history.submitted(task, 1, now);
    history.started(taskId, now);
    extra?.(taskId);
    history.done(taskId, {
      ok: true,
      value: i + 1,
      started: now,
      completed: now + 0.002,
    });
    if (i % FLUSH_EVERY === 0) history.flush();
  }
  history.flush();
}

for (
  const [name, extra] of [
    ["tiny tasks", undefined],
    ["tiny tasks, one publication and one stdout line each", (
      history: History,
      taskId: number,
    ) => {
      history.published(taskId, {
        engineId: taskId % 2,
        taskId,
        seq: taskId,
        time: 0,
        data: { i: taskId },
      });
      history.stream(taskId, "stdout", `task ${taskId}\n`);
    }],
  ] as const
) {
  Deno.bench(`${TASKS} ${name} into the history`, {
    group: "task history",
    baseline: extra === undefined,
    n: 5,
    warmup: 1,
  }, (b) => {
    const history = History.open({
      path: `${dir}/${crypto.randomUUID()}.db`,
      maxTasks: 10 * TASKS,
    });
    b.start();
    run(history, extra && ((taskId) => extra(history, taskId)));
    b.end();
    history.close();
  });
}
