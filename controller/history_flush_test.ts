import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { until, withTempDir } from "../tests/helpers.ts";
import { History } from "./history.ts";
import { FlushQueue } from "./history_flush.ts";
import { LiveTask } from "./history_live.ts";

/** More than the slices may take at once (the first is 1000, each at most doubles). */
const TASKS = 20_000;

/**
 * `TASKS` finished tasks waiting in a history of a fresh folder (flushMs
 * 1), and `rows(state?)` counting those written, read through a second
 * connection; the history is closed after `body`.
 */
async function withBurst(
  body: (
    history: History,
    rows: (state?: string) => number,
    path: string,
  ) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const path = `${dir}/history.db`;
    const history = History.open({ path, flushMs: 1 });
    const other = new DatabaseSync(path, { readOnly: true });
    try {
      const now = Date.now();
      const fn = { kind: "source", source: "(x) => x + 1" } as const;
      for (let taskId = 1; taskId <= TASKS; taskId++) {
        history.submitted(
          { taskId, fn, args: [taskId], placement: { engineId: 0 } },
          1,
          now,
        );
        history.started(taskId, now);
        history.done(taskId, {
          ok: true,
          value: taskId + 1,
          started: now,
          completed: now + 1,
        });
      }
      const rows = (state?: string) =>
        (other.prepare(
          state === undefined
            ? "select count(*) as n from tasks"
            : "select count(*) as n from tasks where state = ?",
        ).get(...(state === undefined ? [] : [state])) as { n: number }).n;
      assert.equal(rows(), 0, "nothing is written before flushMs");
      await body(history, rows, path);
    } finally {
      other.close();
      history.close();
    }
  });
}

Deno.test("a flush of many tasks goes in slices with timers firing between them, and writes everything in the end", async () => {
  await withBurst(async (_history, rows) => {
    const seen = new Set<number>();
    // Each poll is a timer of this test that ran between two slices.
    await until(() => {
      seen.add(rows());
      return rows() === TASKS;
    }, `the ${TASKS} tasks written`);
    const partial = [...seen].filter((n) => n > 0 && n < TASKS);
    assert.ok(
      partial.length > 0,
      `a poll saw part of the tasks written (saw ${[...seen]})`,
    );
    assert.equal(rows("ok"), TASKS);
  });
});

Deno.test("a read between two slices sees every task: it writes the rest first", async () => {
  await withBurst(async (history, rows) => {
    await until(() => rows() > 0, "the first slice");
    const written = rows();
    assert.ok(written < TASKS, `one slice wrote ${written} of ${TASKS}`);
    assert.equal(history.ids().length, TASKS);
    assert.equal(history.get(TASKS)?.state, "ok");
    assert.equal(rows("ok"), TASKS);
  });
});

Deno.test("close() during a sliced flush writes the rest", async () => {
  await withBurst(async (history, rows, path) => {
    await until(() => rows() > 0, "the first slice");
    assert.ok(rows() < TASKS, `one slice wrote ${rows()} of ${TASKS}`);
    history.close();
    assert.equal(rows("ok"), TASKS);
    const reopened = History.open({ path });
    try {
      assert.equal(reopened.ids().length, TASKS);
      assert.equal(reopened.get(1, true)?.value, 2);
    } finally {
      reopened.close();
    }
  });
});

Deno.test("the waiting byte count is what still waits: each slice takes off what it wrote", async () => {
  const limits = {
    maxTasks: 100_000,
    maxAgeMs: undefined,
    maxPublicationsPerTask: 100,
    maxValueBytes: 1024,
    maxStreamBytes: 1024,
  };
  const BYTES = 1000;
  const queue = new FlushQueue(
    (tasks) => {
      for (const live of tasks) live.written();
    },
    1,
    "a queue of this test",
  );
  try {
    const fn = { kind: "source", source: "() => 1" } as const;
    for (let taskId = 1; taskId <= TASKS; taskId++) {
      const live = new LiveTask(
        { taskId, fn, args: [], placement: { engineId: 0 } },
        1,
        Date.now(),
        limits,
      );
      queue.changed(live, BYTES);
    }
    const wrong: string[] = [];
    let partial = 0;
    // Each poll is a timer of this test that ran between two slices.
    await until(() => {
      const waiting = queue.waiting;
      if (waiting > 0 && waiting < TASKS) {
        partial++;
        if (queue.waitingBytes !== waiting * BYTES) {
          wrong.push(`${queue.waitingBytes} bytes for ${waiting} tasks`);
        }
      }
      return waiting === 0;
    }, `the ${TASKS} tasks written`);
    assert.ok(partial > 0, "a poll saw part of the tasks written");
    assert.deepEqual(wrong, []);
    assert.equal(queue.waitingBytes, 0);
  } finally {
    queue.close();
  }
});

Deno.test("a write that fails in a flush past the size limit does not throw into the change: it is tried again", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/history.db`;
    // Only the size limit writes: no timer of flushMs comes first.
    const history = History.open({ path, flushMs: 60_000 });
    const other = new DatabaseSync(path);
    try {
      // The write lock, held by another connection: the flush's
      // transaction fails (SQLITE_BUSY, after the busy timeout).
      other.exec("begin exclusive");
      const fn = { kind: "source", source: "(s) => s.length" } as const;
      const args = ["x".repeat(2 ** 20)];
      const count = 40; // 40 MiB of arguments: past the 32 MiB limit.
      for (let taskId = 1; taskId <= count; taskId++) {
        history.submitted(
          { taskId, fn, args, placement: { engineId: 0 } },
          1,
          Date.now(),
        );
      }
      other.exec("commit");
      const rows = () =>
        (other.prepare("select count(*) as n from tasks").get() as {
          n: number;
        }).n;
      assert.ok(rows() < count, `${rows()} of ${count} written while locked`);
      await until(() => rows() === count, "the retried write");
      assert.equal(history.ids().length, count);
    } finally {
      other.close();
      history.close();
    }
  });
});
