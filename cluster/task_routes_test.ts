/**
 * Unit tests for `TaskRoutes`: a task is routed (abort by id, publications
 * to its listener) from submission until its `done`, and nothing of it is
 * left afterwards, however many tasks went through, with a real registry.
 */

import assert from "node:assert/strict";
import type { Publication } from "../protocol/publication.ts";
import type { TaskListener } from "./cluster.ts";
import { Registry } from "./registry.ts";
import { type Route, TaskRoutes } from "./task_routes.ts";
import { range } from "../tests/helpers.ts";

function recorder(): TaskListener & { heard: string[] } {
  const heard: string[] = [];
  return {
    heard,
    assigned: (engineId) => void heard.push(`assigned ${engineId}`),
    started: () => void heard.push("started"),
    stream: (name, text) => void heard.push(`${name} ${text}`),
    publish: (p) => void heard.push(`publish ${JSON.stringify(p.data)}`),
    done: (outcome) => void heard.push(`done ${outcome.ok}`),
  };
}

function routeRecording(): Route & { aborted: number[][] } {
  const aborted: number[][] = [];
  return { aborted, tell: (m) => void aborted.push([...m.taskIds]) };
}

const pub = (taskId: number, i: number): Publication => ({
  engineId: 0,
  taskId,
  seq: i,
  time: 0,
  data: { i },
});

const ok = { ok: true, value: 1, started: 0, completed: 0 } as const;

Deno.test("TaskRoutes: a task is routed from add until done, then nothing of it is left", () => {
  const registry = new Registry();
  const routes = new TaskRoutes(registry);
  const route = routeRecording();
  const listener = recorder();
  const routed = routes.add(7, route, listener);
  assert.equal(routes.size, 1);
  assert.equal(registry.watched, 1);
  assert.equal(routes.routeOf(7), route);

  registry.tell({ kind: "publish", publication: pub(7, 1) });
  routed.assigned(0);
  routed.started();
  routed.stream("stdout", "hi");
  routed.done(ok);
  assert.equal(routes.size, 0);
  assert.equal(registry.watched, 0);
  assert.equal(routes.routeOf(7), undefined);

  // After done: a stray publication and an abort of its id reach nothing.
  registry.tell({ kind: "publish", publication: pub(7, 2) });
  routes.abort([7]);
  assert.deepEqual(route.aborted, []);
  assert.deepEqual(listener.heard, [
    'publish {"i":1}',
    "assigned 0",
    "started",
    "stdout hi",
    "done true",
  ]);
  assert.equal(registry.latest(0)?.data.i, 2, "the registry still has it");
});

Deno.test("TaskRoutes: many tasks through, ended in any order, aborted or not, leave no route and no watch", () => {
  const registry = new Registry();
  const routes = new TaskRoutes(registry);
  const route = routeRecording();
  const n = 10_000;
  const routed = range(n).map((id) => routes.add(id, route, recorder()));
  // A task for no engine has no route, but its publications are watched.
  const nowhere = routes.add(n, undefined, recorder());
  assert.equal(routes.size, n);
  assert.equal(registry.watched, n + 1);

  routes.abort([1, 3, n, n + 1]);
  assert.deepEqual(route.aborted, [[1, 3]], "one message per route");
  for (let id = n - 1; id >= 0; id -= 2) routed[id].done(ok);
  for (let id = 0; id < n; id += 2) {
    routed[id].done({ ok: false, error: new Error("aborted") });
  }
  nowhere.done({ ok: false, error: new RangeError("no engine") });
  assert.equal(routes.size, 0);
  assert.equal(registry.watched, 0);
});

Deno.test("TaskRoutes: an end hook that throws does not reach whoever ended the task", () => {
  const registry = new Registry();
  const ends: number[] = [];
  const routes = new TaskRoutes(registry, (taskId) => {
    ends.push(taskId);
    // A dependent's bug, thrown into the scheduler's or engine actor's
    // done: it once stopped every client's tasks.
    throw new TypeError("a dependent threw");
  });
  const listener = recorder();
  const routed = routes.add(7, routeRecording(), listener);
  const said: unknown[][] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => void said.push(args);
  try {
    routed.done(ok);
  } finally {
    console.error = error;
  }
  assert.deepEqual(listener.heard, ["done true"]);
  assert.deepEqual(ends, [7]);
  assert.equal(routes.size, 0);
  assert.match(String(said[0]?.[0]), /the dependents of task 7 threw/);
  assert.match(String(said[0]?.[1]), /a dependent threw/);
});
