// imapTasks' ordering and bounding, with tasks the test settles by hand:
// which task ends when is the test's to choose, so that every order can be
// checked without engines (tests/imap_test.ts runs it on real ones).

import assert from "node:assert/strict";
import { imapSettings, type ImapTask, imapTasks } from "./imap.ts";

/** A task the test settles; `aborted` says whether imap stopped it. */
interface HandTask extends ImapTask<number> {
  item: number;
  aborted: boolean;
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
  assert.equal(tasks[3].aborted, true);
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

Deno.test("imapTasks: an error of the source is thrown after the tasks stop", async () => {
  const { tasks, submit } = hands();
  async function* broken() {
    yield 0;
    yield 1;
    throw new Error("the source broke");
  }
  const it = imapTasks(submit, broken(), { ordered: true, maxOutstanding: 4 });
  await assert.rejects(it.next(), /the source broke/);
  assert.equal(tasks.length, 2);
  assert.ok(tasks.every((t) => t.aborted));
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
  await assert.rejects(it.next(), /item 2 cannot be shipped/);
  assert.ok(tasks.every((t) => t.aborted));
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
