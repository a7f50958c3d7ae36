import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { guard, range, until, withTempDir } from "../tests/helpers.ts";
import type { SubmittedTask } from "../cluster/cluster.ts";
import type { FunctionRef } from "../protocol/messages.ts";
import type { WireError } from "../remote/wire.ts";
import { History, type HistoryOptions } from "./history.ts";

const DOUBLE: FunctionRef = { kind: "source", source: "(x) => x * 2" };

function task(
  taskId: number,
  args: unknown[] = [taskId],
  fn: FunctionRef = DOUBLE,
): SubmittedTask {
  return { taskId, fn, args, placement: { engineId: taskId % 2 } };
}

/** A history in a file of a fresh folder, closed after `body`. */
async function withHistory(
  options: Partial<HistoryOptions>,
  body: (history: History, dir: string) => void | Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const history = History.open({ path: `${dir}/history.db`, ...options });
    try {
      await body(history, dir);
    } finally {
      history.close();
    }
  });
}

/** Submits, starts and ends task `taskId` with `value`, at `completed`. */
function runOk(
  history: History,
  taskId: number,
  value: unknown = taskId,
  completed = Date.now(),
): void {
  history.submitted(task(taskId), 1, completed - 2);
  history.started(taskId, completed - 1);
  history.done(taskId, { ok: true, value, started: completed - 1, completed });
}

const LOST: WireError = {
  name: "EngineError",
  message: "engine 3 died",
  fields: { engineId: 3, reason: "died", taskId: 7 },
  cause: { name: "Error", message: "socket closed" },
};

Deno.test("a task's whole life round-trips: arguments, engine, times, streams, data, value", async () => {
  await withHistory({}, (history) => {
    const args = [new Float64Array([1.5, 2.5]), new Map([["k", [1n, 2]]]), {
      when: new Date(5),
    }];
    const submitted = Date.now();
    history.submitted(
      { taskId: 7, fn: DOUBLE, args, placement: { balanced: { retries: 1 } } },
      3,
      submitted,
    );
    assert.equal(history.get(7)?.state, "queued");
    assert.equal(history.get(7)?.engineId, undefined);
    history.assigned(7, 2);
    history.started(7, submitted + 1);
    assert.equal(history.get(7)?.state, "running");
    history.stream(7, "stdout", "hello ");
    history.stream(7, "stderr", "careful\n");
    history.stream(7, "stdout", "world\n");
    history.published(7, {
      engineId: 2,
      taskId: 7,
      seq: 1,
      time: 10,
      data: { a: 1, i: 0 },
    });
    history.published(7, {
      engineId: 2,
      taskId: 7,
      seq: 2,
      time: 11,
      data: { i: 1 },
    });
    const value = { array: new Int32Array([3, 4]), set: new Set(["x"]) };
    history.done(7, {
      ok: true,
      value,
      started: submitted + 2,
      completed: submitted + 3,
    });

    const light = history.get(7);
    assert.deepEqual(light, {
      taskId: 7,
      clientNo: 3,
      engineId: 2,
      state: "ok",
      fn: "(x) => x * 2",
      submitted,
      started: submitted + 2,
      completed: submitted + 3,
      publications: 2,
    });
    const full = history.get(7, true)!;
    assert.deepEqual(full.args, args);
    assert.ok(full.args![0] instanceof Float64Array);
    assert.deepEqual(full.value, value);
    assert.equal(full.stdout, "hello world\n");
    assert.equal(full.stderr, "careful\n");
    assert.deepEqual(full.data, { a: 1, i: 1 });
    assert.deepEqual(full.kept, [
      { engineId: 2, taskId: 7, seq: 1, time: 10, data: { a: 1, i: 0 } },
      { engineId: 2, taskId: 7, seq: 2, time: 11, data: { i: 1 } },
    ]);
    assert.equal(full.notKept, undefined);
    assert.deepEqual(history.ids(), [7]);
  });
});

Deno.test("errors are kept as WireErrors; an abort is 'aborted'; functions are named briefly", async () => {
  await withHistory({}, (history) => {
    history.submitted(task(1), 1, 1);
    history.started(1, 2);
    history.done(1, { ok: false, error: LOST, started: 2, completed: 3 });
    history.submitted(task(2), 1, 4);
    history.done(2, {
      ok: false,
      error: {
        name: "TaskAbortedError",
        message: "task 2 was aborted",
        fields: { taskId: 2 },
      },
    });
    const named: FunctionRef = {
      kind: "source",
      source: "async function simulate(steps) {\n  return steps;\n}",
    };
    const method: FunctionRef = {
      kind: "source",
      source: '({ step(n) { return n } })["step"]',
    };
    const long: FunctionRef = {
      kind: "source",
      source: `(x) => ${"x + ".repeat(40)}1`,
    };
    const module: FunctionRef = {
      kind: "module",
      url: "file:///sim.ts",
      name: "run",
    };
    [named, method, long, module].forEach((fn, i) =>
      history.submitted(task(10 + i, [], fn), 1, 10 + i)
    );

    const failed = history.get(1, true)!;
    assert.equal(failed.state, "error");
    assert.equal(failed.errorMessage, "EngineError: engine 3 died");
    assert.deepEqual(failed.error, LOST);
    assert.equal(failed.value, undefined);
    const aborted = history.get(2)!;
    assert.equal(aborted.state, "aborted");
    assert.equal(typeof aborted.completed, "number");
    assert.deepEqual(
      history.query({ taskIds: [10, 11, 12, 13] }).map((t) => t.fn),
      [
        "simulate",
        "step",
        `(x) => ${"x + ".repeat(40)}`.slice(0, 59) + "…",
        "run from file:///sim.ts",
      ],
    );
  });
});

Deno.test("a query narrows by each field, newest kept when cut, heavy fields only with full", async () => {
  await withHistory({}, (history) => {
    // Tasks 1..6, submitted at 100, 200, ...; engine = id % 2.
    for (const id of range(6).map((i) => i + 1)) {
      history.submitted(task(id), id <= 3 ? 1 : 2, id * 100);
    }
    history.started(1, 150);
    history.done(2, { ok: true, value: 2, started: 1, completed: 2 });
    history.done(3, { ok: false, error: LOST });
    history.started(4, 450);
    const ids = (q: Parameters<History["query"]>[0]) =>
      history.query(q).map((t) => t.taskId);

    assert.deepEqual(ids({}), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(ids({ state: "running" }), [1, 4]);
    assert.deepEqual(ids({ state: ["ok", "error"] }), [2, 3]);
    assert.deepEqual(ids({ state: "queued" }), [5, 6]);
    assert.deepEqual(ids({ engineId: 0 }), [2, 4, 6]);
    assert.deepEqual(ids({ since: 300 }), [3, 4, 5, 6]);
    assert.deepEqual(ids({ until: 300 }), [1, 2]);
    assert.deepEqual(ids({ since: 200, until: 500, engineId: 1 }), [3]);
    assert.deepEqual(ids({ taskIds: [6, 2, 99] }), [2, 6]);
    assert.deepEqual(ids({ limit: 2 }), [5, 6]);
    assert.deepEqual(ids({ state: [] }), []);
    assert.equal(history.query({}).some((t) => "args" in t), false);
    assert.deepEqual(history.query({ taskIds: [4], full: true })[0].args, [4]);
    assert.deepEqual(history.query({ taskIds: [4] })[0].clientNo, 2);

    assert.throws(() => history.query({ stat: "ok" } as never), {
      name: "TypeError",
      message:
        /unknown option "stat" in the history query \(did you mean "state"\?\)/,
    });
    assert.throws(() => history.query({ state: "failed" as never }), {
      name: "TypeError",
      message:
        /state "failed" is no task state; use one of queued, running, ok, error, aborted/,
    });
    assert.throws(
      () => history.query({ limit: 0 }),
      /limit must be a whole number/,
    );
    assert.throws(
      () => history.query({ taskIds: ["1"] as never }),
      /taskIds must be a list of task ids/,
    );
  });
});

Deno.test("purge removes finished tasks only, and refuses an empty filter or an unfinished task", async () => {
  await withHistory({}, (history) => {
    for (const id of [1, 2, 3]) runOk(history, id, id, id * 1000);
    history.submitted(task(4), 1, 4000);
    history.started(4, 4001);

    assert.throws(() => history.purge({}), {
      name: "TypeError",
      message: /purge needs a filter/,
    });
    assert.throws(() => history.purge({ all: false }), /purge needs a filter/);
    assert.throws(
      () => history.purge({ befor: 5 } as never),
      /did you mean "before"/,
    );
    assert.throws(
      () => history.purge({ taskIds: [1, 4] }),
      /purge removes finished tasks only, and task 4 is running: abort it or wait for it; nothing was removed/,
    );
    assert.deepEqual(history.ids(), [1, 2, 3, 4]);

    assert.equal(history.purge({ taskIds: [1] }), 1);
    assert.equal(history.purge({ before: 2500 }), 1); // task 2, completed at 2000
    assert.equal(history.purge({ all: true }), 1); // task 3; 4 runs on
    assert.deepEqual(history.ids(), [4]);
    assert.equal(history.has(1), false);
    assert.equal(history.has(4), true);
  });
});

Deno.test("used: an id at or below its block's highest stays taken, purged or not, and reopened", async () => {
  const block = 2 ** 32;
  await withTempDir((dir) => {
    const path = `${dir}/history.db`;
    const history = History.open({ path });
    try {
      assert.equal(history.used(block + 1), false);
      for (const id of [block + 1, block + 3]) runOk(history, id);
      assert.equal(history.used(block + 2), true, "below the highest");
      assert.equal(history.used(block + 4), false, "above it");
      assert.equal(history.used(2 * block + 1), false, "another block");
      assert.equal(history.purge({ all: true }), 2);
      assert.equal(history.has(block + 3), false);
      assert.equal(history.used(block + 3), true, "purged, never freed");
    } finally {
      history.close();
    }
    // A history reopened reads the highest from its rows.
    const first = History.open({ path });
    try {
      runOk(first, 3 * block + 7);
    } finally {
      first.close();
    }
    const reopened = History.open({ path });
    try {
      assert.equal(reopened.used(3 * block + 5), true);
      assert.equal(reopened.used(3 * block + 8), false);
    } finally {
      reopened.close();
    }
    return Promise.resolve();
  });
});

Deno.test("retention: maxTasks keeps the newest finished, maxAgeMs drops the old, unfinished ones stay", async () => {
  await withHistory({ maxTasks: 3 }, (history) => {
    history.submitted(task(100), 1, 0); // never finishes
    for (const id of range(6).map((i) => i + 1)) {
      runOk(history, id, id, id * 10);
    }
    assert.deepEqual(history.ids(), [100, 4, 5, 6]);
    runOk(history, 7, 7, 70);
    assert.deepEqual(history.ids(), [100, 5, 6, 7]);
  });
  await withHistory({ maxAgeMs: 60_000 }, (history) => {
    const now = Date.now();
    runOk(history, 1, 1, now - 120_000);
    runOk(history, 2, 2, now - 1_000);
    history.submitted(task(3), 1, now - 200_000);
    assert.deepEqual(history.ids(), [3, 2]);
  });
});

Deno.test("retention drops the functions of the tasks it removed too (a sweep every 10 000)", async () => {
  await withHistory({ maxTasks: 10 }, (history, dir) => {
    for (let id = 1; id <= 10_010; id++) {
      const fn: FunctionRef = { kind: "source", source: `() => ${id}` };
      history.submitted(task(id, [], fn), 1, id);
      history.done(id, { ok: true, value: id, started: id, completed: id });
      if (id % 1000 === 0) history.flush();
    }
    history.flush();
    const db = new DatabaseSync(`${dir}/history.db`, { readOnly: true });
    try {
      const { n } = db.prepare("select count(*) as n from functions")
        .get() as { n: number };
      assert.equal(n, 10);
    } finally {
      db.close();
    }
    assert.deepEqual(
      history.query({}).map((t) => t.fn),
      range(10).map((i) => `() => ${10_001 + i}`),
    );
  });
});

Deno.test("a task that publishes 10 000 times keeps the last ones and all its merged data", async () => {
  await withHistory({ maxPublicationsPerTask: 5 }, (history) => {
    history.submitted(task(1), 1, 1);
    history.started(1, 1);
    for (let seq = 1; seq <= 10_000; seq++) {
      history.published(1, {
        engineId: 1,
        taskId: 1,
        seq,
        time: seq,
        data: { [`k${seq % 7}`]: seq, seq },
      });
      if (seq === 5_000) history.flush(); // some written, some in memory
    }
    const full = history.get(1, true)!;
    assert.equal(full.publications, 10_000);
    assert.deepEqual(full.kept!.map((p) => p.seq), [
      9996,
      9997,
      9998,
      9999,
      10000,
    ]);
    const merged: Record<string, number> = {};
    for (let seq = 1; seq <= 10_000; seq++) {
      Object.assign(merged, { [`k${seq % 7}`]: seq, seq });
    }
    assert.deepEqual(full.data, merged);
    assert.deepEqual(full.notKept, [
      "publications: the first 9995 of 10000 not kept (maxPublicationsPerTask keeps the last 5)",
    ]);
  });
});

Deno.test("maxValueBytes: arguments, a value, a publication too large are not stored, and notKept says so", async () => {
  await withHistory({ maxValueBytes: 1024 }, (history) => {
    const big = new Uint8Array(2048);
    history.submitted(task(1, [big]), 1, 1);
    history.started(1, 2);
    history.published(1, {
      engineId: 1,
      taskId: 1,
      seq: 1,
      time: 1,
      data: { big },
    });
    history.published(1, {
      engineId: 1,
      taskId: 1,
      seq: 2,
      time: 2,
      data: { small: 1 },
    });
    history.done(1, { ok: true, value: big, started: 2, completed: 3 });
    const full = history.get(1, true)!;
    assert.equal(full.state, "ok");
    assert.equal(full.args, undefined);
    assert.equal(full.value, undefined);
    assert.equal(full.data, undefined);
    assert.deepEqual(full.kept!.map((p) => p.seq), [2]);
    const notes = full.notKept!.join("\n");
    for (const field of ["args", "value", "data"]) {
      assert.match(
        notes,
        new RegExp(
          `^${field}: \\d+ bytes encoded, more than maxValueBytes \\(1024\\)$`,
          "m",
        ),
      );
    }
    assert.match(
      notes,
      /publications: 1 not kept, each larger than maxValueBytes \(1024\)/,
    );
  });
});

Deno.test("stdout and stderr are cut at maxStreamBytes, with a note at the end", async () => {
  await withHistory({ maxStreamBytes: 10 }, (history) => {
    history.submitted(task(1), 1, 1);
    history.stream(1, "stdout", "ab€"); // 5 bytes in UTF-8
    history.stream(1, "stderr", "cd");
    history.flush();
    history.stream(1, "stdout", "é😀xyz"); // é fits, 😀 (4 bytes) does not
    history.stream(1, "stderr", "m"); // would fit, but the rest goes once cut
    history.done(1, { ok: true, value: 1, started: 1, completed: 2 });
    const full = history.get(1, true)!;
    assert.equal(
      full.stdout,
      "ab€é\n[troupe: 7 more bytes of stdout cut here (the history's maxStreamBytes)]\n",
    );
    assert.equal(
      full.stderr,
      "cd\n[troupe: 1 more byte of stderr cut here (the history's maxStreamBytes)]\n",
    );
    assert.deepEqual(full.notKept, [
      "stdout: 7 bytes cut (maxStreamBytes keeps the first 10 bytes of stdout and stderr together)",
      "stderr: 1 byte cut (maxStreamBytes keeps the first 10 bytes of stdout and stderr together)",
    ]);
  });
});

Deno.test("reads see unflushed writes; the timer flushes by itself; events out of turn are RangeErrors", async () => {
  await withHistory({ flushMs: 20 }, async (history, dir) => {
    history.submitted(task(1), 1, 1);
    const other = new DatabaseSync(`${dir}/history.db`, { readOnly: true });
    try {
      const rows = () =>
        (other.prepare("select count(*) as n from tasks").get() as {
          n: number;
        }).n;
      await until(() => rows() === 1, "the timer's flush");
      history.done(1, { ok: true, value: 1, started: 1, completed: 2 });
      assert.equal(history.get(1)?.state, "ok"); // before any timer
    } finally {
      other.close();
    }
    assert.throws(() => history.submitted(task(1), 1, 3), {
      name: "RangeError",
      message: /task 1 is in the history already/,
    });
    assert.throws(() => history.started(1, 4), {
      name: "RangeError",
      message:
        /no task 1 in flight for its started event: it has ended already/,
    });
    assert.throws(
      () => history.stream(9, "stdout", "x"),
      /no task 9 in flight.*never submitted/,
    );
  });
});

Deno.test("reopened after close, the history has everything, and client numbers go on", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/history.db`;
    const first = History.open({ path });
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.deepEqual([first.nextClientNo(), first.nextClientNo()], [1, 2]);
    runOk(first, 1, new Map([[1, "one"]]));
    first.submitted(task(2), 2, 5);
    first.stream(2, "stdout", "half");
    first.published(2, {
      engineId: 0,
      taskId: 2,
      seq: 1,
      time: 1,
      data: { x: 1 },
    });
    const block = 2 ** 32; // client 1's ids
    runOk(first, block + 5);
    const before = first.query({ full: true });
    for (const log of [`${path}-wal`, `${path}-shm`]) {
      assert.equal((await Deno.stat(log)).mode! & 0o777, 0o600, log);
    }
    first.close();
    first.close(); // twice is fine
    assert.throws(() => first.get(1), /the task history .* is closed/);

    await Deno.chmod(path, 0o644); // opened to others meanwhile
    const second = History.open({ path });
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    try {
      assert.deepEqual(second.query({ full: true }), before);
      assert.equal(second.nextClientNo(), 3);
      assert.deepEqual(
        [block + 3, block + 5, block + 6].map((id) => second.has(id)),
        [false, true, false],
      );
      assert.throws(() => second.submitted(task(block + 5), 1, 9), {
        name: "RangeError",
        message: /task 4294967301 is in the history already/,
      });
      // Not in flight here: the history that had it in flight is closed.
      assert.throws(() => second.started(2, 6), RangeError);
    } finally {
      second.close();
    }
  });
});

Deno.test("a history's id is made with its database, kept when reopened, and another database's differs", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/history.db`;
    const first = History.open({ path });
    const id = first.id;
    first.close();
    assert.match(id, /^[0-9a-f-]{36}$/);
    const again = History.open({ path });
    try {
      assert.equal(again.id, id);
    } finally {
      again.close();
    }
    const other = History.open({ path: ":memory:" });
    const another = History.open({ path: ":memory:" });
    try {
      assert.notEqual(other.id, id);
      assert.notEqual(other.id, another.id);
    } finally {
      other.close();
      another.close();
    }
    // A file of a troupe that made no id gets one, then keeps it.
    const db = new DatabaseSync(path);
    db.exec("delete from meta where key = 'historyId'");
    db.close();
    const older = History.open({ path });
    const given = older.id;
    older.close();
    assert.notEqual(given, id);
    const kept = History.open({ path });
    try {
      assert.equal(kept.id, given);
    } finally {
      kept.close();
    }
    // Deleted and made again at the same path: a new history.
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      await Deno.remove(file).catch(() => {});
    }
    const remade = History.open({ path });
    try {
      assert.notEqual(remade.id, given);
      assert.equal(remade.nextClientNo(), 1);
    } finally {
      remade.close();
    }
  });
});

Deno.test("after kill -9 the flushed part survives and failUnfinished ends the running tasks as errors", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/history.db`;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        new URL("../deno.json", import.meta.url).pathname,
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
        new URL("../tests/fixtures/history_crash.ts", import.meta.url).pathname,
        path,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      let said = "";
      while (!said.includes("ready\n")) {
        const { value, done } = await guard(
          lines.read(),
          "the writer's ready",
          30_000,
        );
        if (done) break;
        said += value;
      }
      assert.equal(said, "ready\n");
    } finally {
      child.kill("SIGKILL");
      while (!(await lines.read()).done) { /* drained */ }
      const status = await child.status;
      assert.equal(status.signal, "SIGKILL");
    }

    const history = History.open({ path });
    try {
      assert.deepEqual(history.ids(), [1, 2, 3]); // 4 was never flushed
      assert.equal(history.get(2, true)?.stdout, "step 1\n");
      const seen: string[] = [];
      const failed = history.failUnfinished((t) => {
        seen.push(`${t.taskId} ${t.state} ${t.engineId}`);
        return {
          name: "EngineError",
          message:
            `the controller stopped while task ${t.taskId} was ${t.state}`,
          fields: { engineId: t.engineId, taskId: t.taskId },
        };
      });
      assert.equal(failed, 2);
      assert.deepEqual(seen, ["2 running 0", "3 queued 1"]);
      assert.equal(history.failUnfinished(() => LOST), 0);
      assert.equal(history.nextClientNo(), 2);
    } finally {
      history.close();
    }
    // Durable: a new opening sees the same, done and failed alike.
    const again = History.open({ path });
    try {
      const tasks = again.query({ full: true });
      assert.deepEqual(tasks.map((t) => [t.taskId, t.state]), [[1, "ok"], [
        2,
        "error",
      ], [3, "error"]]);
      assert.equal(tasks[0].value, "one");
      assert.equal(tasks[1].error?.name, "EngineError");
      assert.equal(
        tasks[2].errorMessage,
        "EngineError: the controller stopped while task 3 was queued",
      );
    } finally {
      again.close();
    }
  });
});

Deno.test("what is not a troupe history, or a folder that does not exist, is refused clearly", async () => {
  await withTempDir(async (dir) => {
    const other = new DatabaseSync(`${dir}/other.db`);
    other.exec("create table notes (text)");
    other.close();
    assert.throws(() => History.open({ path: `${dir}/other.db` }), {
      message:
        `${dir}/other.db is an SQLite database but not a troupe task history (its tables: notes); give the controller another --db path`,
    });

    await Deno.writeTextFile(`${dir}/text.db`, "not a database ".repeat(100));
    assert.throws(
      () => History.open({ path: `${dir}/text.db` }),
      /text.db is not a troupe task history: SQLite says "file is not a database"/,
    );

    const newer = History.open({ path: `${dir}/newer.db` });
    newer.close();
    const raw = new DatabaseSync(`${dir}/newer.db`);
    raw.exec("update meta set value = 99 where key = 'version'");
    raw.close();
    assert.throws(
      () => History.open({ path: `${dir}/newer.db` }),
      /is a troupe task history of a newer troupe \(schema version 99; this one reads up to 1\)/,
    );

    assert.throws(
      () => History.open({ path: `${dir}/nowhere/history.db` }),
      /the folder .*nowhere does not exist; create it first/,
    );
    assert.throws(
      () => History.open({ path: `${dir}/h.db`, maxTask: 5 } as never),
      {
        name: "TypeError",
        message:
          /unknown option "maxTask" in the history's options \(did you mean "maxTasks"\?\)/,
      },
    );
    assert.throws(() => History.open({ path: `${dir}/h.db`, maxTasks: -1 }), {
      name: "TypeError",
      message: /maxTasks must be a whole number, 0 or more, got -1/,
    });
    assert.throws(() => History.open({ path: "" }), /the history needs a path/);
  });
});
