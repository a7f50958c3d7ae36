/**
 * The client core's cost per tiny load-balanced task against the number of
 * engines (`deno bench`), without threads: the scheduler and the engine
 * actors on `FakeLink`s that answer every run at once. What 64 engines
 * cost against 2 here is troupe's own, with none of the engine threads'
 * turns on the cores that the wall figure of `scale_figures.ts` counts.
 *
 * @module
 */

import { Scheduler } from "../cluster/scheduler.ts";
import { EngineActor } from "../cluster/engine_actor.ts";
import { handOut } from "../cluster/hand_out.ts";
import { Registry } from "../cluster/registry.ts";
import type { TaskListener } from "../cluster/cluster.ts";
import { FakeLink } from "../tests/fake_link.ts";

/** Tasks per measured iteration, submitted one by one as a view does. */
const TASKS = 2000;

/** A scheduler on `n` engines whose links answer each `run` at once. */
function fakeCluster(n: number): {
  run(count: number): void;
  close(): Promise<void>;
} {
  const registry = new Registry();
  const engines: EngineActor[] = [];
  const links: FakeLink[] = [];
  const scheduler = new Scheduler({
    engines: () => engines,
    engineCount: () => engines.length,
    mayGainEngines: () => false,
    submit: handOut,
  });
  for (let id = 0; id < n; id++) {
    const link = new FakeLink();
    links.push(link);
    engines.push(
      new EngineActor(
        id,
        link,
        registry,
        () => scheduler.tell({ kind: "changed" }),
      ),
    );
    link.say({ t: "ready" });
  }
  const read = links.map((link) => link.sent.length);
  let taskId = 0;
  return {
    run(count) {
      let done = 0;
      const observer: TaskListener = {
        assigned() {},
        started() {},
        stream() {},
        publish() {},
        done: () => void done++,
      };
      for (let i = 0; i < count; i++) {
        scheduler.tell({
          kind: "enqueue",
          tasks: [{
            taskId: ++taskId,
            fn: { kind: "source", source: "(x) => x + 1" },
            args: [i],
            observer,
            retries: 0,
          }],
        });
      }
      // The engines answer what they were sent, round after round, with
      // the engine's clock as a task runner gives it (a 2 µs task).
      while (done < count) {
        links.forEach((link, k) => {
          for (; read[k] < link.sent.length; read[k]++) {
            const message = link.sent[read[k]];
            if (message.t !== "run") continue;
            const now = performance.timeOrigin + performance.now();
            link.say({
              t: "done",
              taskId: message.taskId,
              ok: true,
              value: 1,
              started: now,
              completed: now + 0.002,
            });
          }
        });
      }
    },
    async close() {
      scheduler.tell({ kind: "close" });
      await Promise.all(engines.map((e) => e.stop("the bench ended")));
    },
  };
}

for (const n of [2, 64]) {
  Deno.bench(`${TASKS} tiny LB tasks, ${n} engines on FakeLinks`, {
    group: "client core per task, by engines",
    baseline: n === 2,
  }, async (b) => {
    const cluster = fakeCluster(n);
    cluster.run(TASKS / 4); // the depth learns the tasks first
    b.start();
    cluster.run(TASKS);
    b.end();
    await cluster.close();
  });
}
