import assert from "node:assert/strict";
import { guard } from "../tests/helpers.ts";
import { type LimiterClock, LogLimiter, type Summary } from "./log_limiter.ts";

/** A clock that moves only when told: windows end exactly when a test says. */
class ManualClock implements LimiterClock {
  time = 0;
  #timers = new Set<{ at: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const timer = { at: this.time + ms, fn };
    this.#timers.add(timer);
    return () => this.#timers.delete(timer);
  }

  get pending(): number {
    return this.#timers.size;
  }

  /** Moves to `time + ms`, firing the timers due on the way, in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.#timers].filter((t) => t.at <= end)
        .sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#timers.delete(due);
      this.time = due.at;
      due.fn();
    }
    this.time = end;
  }
}

const more: Summary = (n, ms) => `… and ${n} more in ${ms} ms`;

function setup(options: { maxKinds?: number } = {}) {
  const clock = new ManualClock();
  const lines: string[] = [];
  const limiter = new LogLimiter({
    log: (line) => lines.push(line),
    windowMs: 10_000,
    clock,
    ...options,
  });
  return { clock, lines, limiter };
}

Deno.test("LogLimiter", async (t) => {
  await t.step("the first line of a kind is logged at once", () => {
    const { lines, limiter, clock } = setup();
    limiter.log("a", "a 1", more);
    limiter.log("b", "b 1", more);
    assert.deepEqual(lines, ["a 1", "b 1"]);
    limiter.close();
    assert.deepEqual(lines, ["a 1", "b 1"], "no repeats, no summary");
    assert.equal(clock.pending, 0);
  });

  await t.step("repeats in the window are one line when it ends", () => {
    const { lines, limiter, clock } = setup();
    for (let i = 0; i < 2000; i++) {
      limiter.log("a", `a ${i}`, more);
      clock.advance(1);
    }
    assert.deepEqual(lines, ["a 0"]);
    clock.advance(10_000 - 2000);
    assert.deepEqual(lines, ["a 0", "… and 1999 more in 10000 ms"]);
    limiter.close();
    assert.equal(lines.length, 2);
  });

  await t.step("a flood is one line per window; quiet ends it", () => {
    const { lines, limiter, clock } = setup();
    // 30 s of one line every 10 ms, then quiet.
    for (let i = 0; i < 3000; i++) {
      limiter.log("a", `a ${i}`, more);
      clock.advance(10);
    }
    clock.advance(30_000);
    assert.deepEqual(lines, [
      "a 0",
      "… and 999 more in 10000 ms",
      "… and 1000 more in 10000 ms",
      "… and 1000 more in 10000 ms",
    ]);
    assert.equal(clock.pending, 0, "a quiet kind leaves no timer");
    limiter.log("a", "a again", more);
    assert.equal(lines.at(-1), "a again", "after quiet, a line at once");
    limiter.close();
  });

  await t.step("close() logs what is pending and clears the timers", () => {
    const { lines, limiter, clock } = setup();
    limiter.log("a", "a 0", more);
    clock.advance(2500);
    limiter.log("a", "a 1", more);
    limiter.log("b", "b 0", more);
    assert.equal(clock.pending, 2);
    limiter.close();
    assert.deepEqual(lines, ["a 0", "b 0", "… and 1 more in 2500 ms"]);
    assert.equal(clock.pending, 0);
    limiter.log("a", "after close", more);
    assert.equal(lines.at(-1), "after close", "after close lines pass");
    assert.equal(clock.pending, 0);
  });

  await t.step("past maxKinds, new kinds are counted together", () => {
    const { lines, limiter, clock } = setup({ maxKinds: 3 });
    for (let i = 0; i < 100; i++) limiter.log(`k${i}`, `k${i}`, more);
    assert.deepEqual(lines, ["k0", "k1", "k2", "k3"]);
    clock.advance(10_000);
    assert.deepEqual(lines.slice(4), [
      "… and 96 more lines of other kinds in the last 10000 ms",
    ]);
    limiter.close();
  });
});

Deno.test("LogLimiter on the real clock: its timer never holds the process", async () => {
  const module = new URL("./log_limiter.ts", import.meta.url).href;
  // A window of ten minutes is still open when the script's work ends.
  const script = `import { LogLimiter } from ${JSON.stringify(module)};
    const limiter = new LogLimiter({ log: console.log, windowMs: 600_000 });
    limiter.log("a", "first", (n) => "and " + n + " more");
    limiter.log("a", "second", (n) => "and " + n + " more");`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const { code, stdout } = await guard(
      child.output(),
      "the script with an open window to end",
      60_000,
    );
    assert.equal(code, 0);
    assert.equal(new TextDecoder().decode(stdout), "first\n");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Ended already.
    }
  }
});

Deno.test("LogLimiter on the real clock: close() clears its timers", () => {
  // The op sanitizer fails this test if a timer outlives it.
  const lines: string[] = [];
  const limiter = new LogLimiter({ log: (l) => lines.push(l) });
  limiter.log("a", "a 0", more);
  limiter.log("a", "a 1", more);
  limiter.log("b", "b 0", more);
  limiter.close();
  assert.equal(lines.length, 3);
  assert.match(lines[2], /^… and 1 more in \d+ ms$/);
});
