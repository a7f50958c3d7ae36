// imapTasks' ordering and bounding, with tasks the test settles by hand:
// which task ends when is the test's to choose, so that every order can be
// checked without engines (tests/imap_test.ts runs it on real ones).

import assert from "node:assert/strict";
import { imapSettings, type ImapTask, imapTasks } from "./imap.ts";

/**
 * A task the test settles; `aborted` says whether imap stopped it, and
 * `running` (set by the test) that an engine has it.
 */
interface HandTask extends ImapTask<number> {
  item: number;
  aborted: boolean;
  running: boolean;
  resolve(value: number): void;
  reject(error: Error): void;
}

/** Submits hand-settled tasks and keeps them, in submission order. */
function hands(): { tasks: HandTask[]; submit(item: number): HandTask } {
  const tasks: HandTask[] = [];
  return {
    tasks,
    submit(item) {
      const { promise, resolve, reject } = Promise.withResolvers<number>();
      const task: HandTask = {
        item,
        aborted: false,
        running: false,
        resolve,
        reject,
        then: (a, b) => promise.then(a, b),
        abort() {
          if (!task.aborted) {
            task.aborted = true;
            reject(new Error(`aborted ${item}`));
          }
          return promise.then(() => {}, () => {});
        },
        waiting: () => !task.running,
      };
      tasks.push(task);
      return task;
    },
  };
}

/** A source that counts its pulls and whether it was closed. */
function counted(n: number): {
  source: Iterable<number>;
  pulled(): number;
  closed(): boolean;
} {
  let pulled = 0;
  let closed = false;
  function* gen() {
    try {
      for (let i = 0; i < n; i++) {
        pulled++;
        yield i;
      }
    } finally {
      closed = true;
    }
  }
  return { source: gen(), pulled: () => pulled, closed: () => closed };
}

/** Lets every settled promise's callbacks run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

Deno.test("imapTasks: ordered gives input order whatever ends first", async () => {
  const { tasks, submit } = hands();
  const it = imapTasks(submit, [0, 1, 2], { ordered: true, maxOutstanding: 3 });
  const first = it.next();
  await settle();
  assert.equal(tasks.length, 3);
  tasks[2].resolve(20);
  tasks[1].resolve(10);
  await settle();
  tasks[0].resolve(0);
  assert.deepEqual(await first, { value: 0, done: false });
  assert.deepEqual(await it.next(), { value: 10, done: false });
  assert.deepEqual(await it.next(), { value: 20, done: false });
  assert.deepEqual(await it.next(), { value: undefined, done: true });
});

Deno.test("imapTasks: unordered gives values as they complete", async () => {
  const { tasks, submit } = hands();
  const it = imapTasks(submit, [0, 1, 2], {
    ordered: false,
    maxOutstanding: 3,
  });
  const first = it.next();
  await settle();
  tasks[2].resolve(20);
  assert.deepEqual(await first, { value: 20, done: false });
  tasks[0].resolve(0);
  tasks[1].resolve(10);
  assert.deepEqual(await it.next(), { value: 0, done: false });
  assert.deepEqual(await it.next(), { value: 10, done: false });
  assert.deepEqual(await it.next(), { value: undefined, done: true });
});

Deno.test("imapTasks: at most maxOutstanding pulled and not given back", async () => {
  const { tasks, submit } = hands();
  const src = counted(100);
  const it = imapTasks(submit, src.source, {
    ordered: true,
    maxOutstanding: 4,
  });
  let received = 0;
  const pending = it.next();
  await settle();
  assert.equal(src.pulled(), 4);
  let next = pending;
  for (let i = 0; i < 100; i++) {
    tasks[i].resolve(i);
    assert.deepEqual(await next, { value: i, done: false });
    received++;
    assert.ok(src.pulled() - received <= 4, `${src.pulled()} pulled`);
    next = it.next();
    await settle();
    assert.ok(src.pulled() - received <= 4, `${src.pulled()} pulled`);
  }
  assert.deepEqual(await next, { value: undefined, done: true });
  assert.equal(src.closed(), true); // ended by itself
});

Deno.test("imapTasks: a failure is thrown at its place, then the rest stop", async () => {
  const { tasks, submit } = hands();
  const src = counted(100);
  const it = imapTasks(submit, src.source, {
    ordered: true,
    maxOutstanding: 3,
  });
  const first = it.next();
  await settle();
  tasks[1].reject(new Error("item 1 failed"));
  tasks[0].resolve(0);
  assert.deepEqual(await first, { value: 0, done: false });
  await assert.rejects(it.next(), /item 1 failed/);
  assert.equal(tasks[2].aborted, true);
  // an item pulled while the failure was given back is dropped unsubmitted
  assert.ok(tasks.length <= 4 && tasks.slice(2).every((t) => t.aborted));
  await settle();
  assert.equal(src.closed(), true);
  const pulled = src.pulled();
  assert.deepEqual(await it.next(), { value: undefined, done: true });
  assert.equal(src.pulled(), pulled, "pulled after the failure");
});

Deno.test("imapTasks: unordered, a failure is thrown when it comes", async () => {
  const { tasks, submit } = hands();
  const src = counted(100);
  const it = imapTasks(submit, src.source, {
    ordered: false,
    maxOutstanding: 3,
  });
  const first = it.next();
  await settle();
  tasks[2].reject(new Error("item 2 failed"));
  await assert.rejects(first, /item 2 failed/);
  assert.deepEqual([tasks[0].aborted, tasks[1].aborted], [true, true]);
  assert.equal(src.closed(), true);
});

Deno.test("imapTasks: break aborts what is in flight and closes the source", async () => {
  const { tasks, submit } = hands();
  const src = counted(Infinity);
  const values: number[] = [];
  const run = (async () => {
    for await (
      const v of imapTasks(submit, src.source, {
        ordered: true,
        maxOutstanding: 2,
      })
    ) {
      values.push(v);
      if (v === 1) break;
    }
  })();
  for (let i = 0; i < 2; i++) {
    while (tasks.length <= i) await settle();
    tasks[i].resolve(i);
  }
  await run;
  assert.deepEqual(values, [0, 1]);
  assert.equal(src.closed(), true);
  assert.equal(tasks.filter((t) => !t.aborted).length, 2); // 0 and 1 ended
  assert.ok(tasks.slice(2).every((t) => t.aborted));
});

Deno.test("imapTasks: an error of the source comes after the values pulled before it", async () => {
  for (const ordered of [true, false]) {
    const { tasks, submit } = hands();
    const broken = async function* () {
      yield 0;
      yield 1;
      throw new Error("the source broke");
    };
    const it = imapTasks(submit, broken(), { ordered, maxOutstanding: 4 });
    const first = it.next();
    while (tasks.length < 2) await settle();
    tasks[1].resolve(10);
    tasks[0].resolve(0);
    const values = [(await first).value, (await it.next()).value];
    assert.deepEqual(values, ordered ? [0, 10] : [10, 0]);
    await assert.rejects(it.next(), /the source broke/);
    assert.equal(tasks.length, 2);
    assert.ok(tasks.every((t) => !t.aborted));
  }
});

Deno.test("imapTasks: submit's own error stops it too", async () => {
  const { tasks, submit } = hands();
  const src = counted(10);
  const it = imapTasks(
    (item: number) => {
      if (item === 2) throw new TypeError("item 2 cannot be shipped");
      return submit(item);
    },
    src.source,
    { ordered: true, maxOutstanding: 4 },
  );
  const first = it.next();
  while (tasks.length < 2) await settle();
  tasks[0].resolve(0);
  tasks[1].resolve(1);
  assert.deepEqual(await first, { value: 0, done: false });
  assert.deepEqual(await it.next(), { value: 1, done: false });
  // at its place, after the items submitted before it
  await assert.rejects(it.next(), /item 2 cannot be shipped/);
  assert.equal(src.closed(), true);
  assert.equal(src.pulled(), 3);
});

Deno.test("imapTasks: once the signal aborts, the source is pulled no more", async () => {
  const { tasks, submit } = hands();
  const src = counted(100);
  const controller = new AbortController();
  const it = imapTasks(submit, src.source, {
    ordered: true,
    maxOutstanding: 2,
    signal: controller.signal,
  });
  const first = it.next();
  await settle();
  tasks[0].resolve(0);
  assert.deepEqual(await first, { value: 0, done: false });
  controller.abort();
  tasks[1].reject(new Error("aborted by the signal"));
  await assert.rejects(it.next(), /aborted by the signal/);
  assert.equal(src.pulled(), 2);
  assert.equal(src.closed(), true);
});

Deno.test("imapSettings: checked, with a default of twice the engines", () => {
  assert.deepEqual(imapSettings([], {}, 3), {
    ordered: true,
    maxOutstanding: 6,
    signal: undefined,
  });
  assert.equal(imapSettings([], {}, 0).maxOutstanding, 1);
  assert.throws(() => imapSettings(42, {}, 1), /imap takes an Iterable/);
  assert.throws(() => imapSettings(null, {}, 1), /got null/);
  assert.throws(
    () => imapSettings([], { maxOutstandng: 2 } as never, 1),
    /did you mean "maxOutstanding"/,
  );
  for (const bad of [0, 1.5, -2]) {
    assert.throws(
      () => imapSettings([], { maxOutstanding: bad }, 1),
      new RangeError(`maxOutstanding must be a whole number >= 1, got ${bad}`),
    );
  }
  assert.throws(
    () => imapSettings([], { signal: {} as AbortSignal }, 1),
    /signal in imap options must be an AbortSignal/,
  );
});

Deno.test("imapTasks: values are given back while the source is slow (a feedback source)", async () => {
  const { tasks, submit } = hands();
  const seen = Promise.withResolvers<void>();
  // The next item is known only once the consumer has seen a value.
  async function* crawl() {
    yield 1;
    await seen.promise;
    yield 2;
  }
  const it = imapTasks(submit, crawl(), { ordered: true, maxOutstanding: 4 });
  const first = it.next();
  while (tasks.length < 1) await settle();
  tasks[0].resolve(10);
  assert.deepEqual(await first, { value: 10, done: false });
  seen.resolve();
  const second = it.next();
  while (tasks.length < 2) await settle();
  tasks[1].resolve(20);
  assert.deepEqual(await second, { value: 20, done: false });
  assert.deepEqual(await it.next(), { value: undefined, done: true });
});

Deno.test("imapTasks: the signal ends an imap whose source stalls", async () => {
  const { submit } = hands();
  const stall = Promise.withResolvers<void>();
  let closed = false;
  async function* stalls() {
    try {
      await stall.promise;
      yield 1;
    } finally {
      closed = true;
    }
  }
  const controller = new AbortController();
  const it = imapTasks(submit, stalls(), {
    ordered: true,
    maxOutstanding: 2,
    signal: controller.signal,
  });
  const first = it.next();
  await settle();
  controller.abort();
  await assert.rejects(first, { name: "AbortError" });
  assert.equal(closed, false, "closed before its pull ended");
  stall.resolve();
  await settle();
  assert.equal(closed, true, "the source was not closed once its pull ended");
});

Deno.test("imapTasks: an early exit stops only the tasks no engine has; the signal stops all", async () => {
  for (const exit of ["break", "failure", "signal"] as const) {
    const { tasks, submit } = hands();
    const controller = new AbortController();
    const it = imapTasks(submit, counted(100).source, {
      ordered: true,
      maxOutstanding: 4,
      signal: controller.signal,
    });
    const first = it.next();
    while (tasks.length < 4) await settle();
    tasks[1].running = true;
    tasks[2].running = true;
    if (exit === "signal") controller.abort();
    // A real task's call carries the signal: it fails with it.
    if (exit !== "break") tasks[0].reject(new Error(`item 0: ${exit}`));
    else tasks[0].resolve(0);
    if (exit === "break") {
      assert.deepEqual(await first, { value: 0, done: false });
      await it.return();
    } else await assert.rejects(first);
    const aborted = tasks.slice(1, 4).map((t) => t.aborted);
    assert.deepEqual(
      aborted,
      exit === "signal" ? [true, true, true] : [false, false, true],
      exit,
    );
    tasks[1].resolve(1); // running ones end by themselves, unasked for
    tasks[2].reject(new Error("nobody asks"));
  }
});

Deno.test("imapTasks: a full queue is waited for, never thrown", async () => {
  const { tasks, submit } = hands();
  let free = false;
  const freed = Promise.withResolvers<void>();
  const it = imapTasks(submit, [0, 1], {
    ordered: true,
    maxOutstanding: 2,
    room: () => (free ? undefined : freed.promise),
  });
  const first = it.next();
  await settle();
  assert.equal(tasks.length, 0, "submitted into a full queue");
  free = true;
  freed.resolve();
  while (tasks.length < 2) await settle();
  tasks[0].resolve(0);
  tasks[1].resolve(1);
  assert.deepEqual(await first, { value: 0, done: false });
  assert.deepEqual(await it.next(), { value: 1, done: false });
  assert.deepEqual(await it.next(), { value: undefined, done: true });
});

Deno.test("imapSettings: maxOutstanding is at most maxQueue; values are type-checked", () => {
  assert.equal(imapSettings([], {}, 2, 2).maxOutstanding, 2);
  assert.equal(
    imapSettings([], { maxOutstanding: 10 }, 2, 3).maxOutstanding,
    3,
  );
  assert.equal(imapSettings([], { maxOutstanding: 1 }, 2, 3).maxOutstanding, 1);
  assert.throws(
    () => imapSettings([], { ordered: "false" as never }, 1),
    new TypeError('imap options: ordered must be true or false, got "false"'),
  );
  assert.throws(
    () => imapSettings([], { maxOutstanding: "4" as never }, 1),
    new TypeError("imap options: maxOutstanding must be a number, got string"),
  );
  // ipyparallel's imap(f, xs, ys): a second sequence where options go
  assert.throws(
    () => imapSettings([1, 2], [10, 20] as never, 1),
    /imap takes one iterable, then an options object; .*zip them/,
  );
});
