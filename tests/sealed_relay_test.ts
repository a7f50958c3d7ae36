/**
 * Sealed frames against a man in the middle (`TapRelay`) between a real
 * client and a real engine process: over a sealed session the relay reads
 * nothing of the work, and a frame it injects, alters or replays drops the
 * connection instead of being run; over a plain one (loopback's default) it
 * reads and injects at will, which is what shows that the relay is a real
 * attacker. Rewriting the handshake's `sealed` flag fails the handshake.
 *
 * Tasks write marker files for their side effects: "not run" is checked as
 * "the file is not there" after the engine has come back and run a task
 * after the attack, so that the check cannot pass by looking too early.
 */

import assert from "node:assert/strict";
import { EngineError } from "../mod.ts";
import { decodeValue, encodeValue } from "../transport/codec.ts";
import { startHandEngine } from "./hand_engine.ts";
import { errorOf, guard, until, withClient } from "./helpers.ts";
import { type Direction, TapRelay } from "./tap_relay.ts";
import {
  ARG_MARKER,
  contains,
  exists,
  HANG_MS,
  helloOf,
  PUB_MARKER,
  RESULT_MARKER,
  runMarked,
  SOURCE_MARKER,
  text,
  withTappedEngine,
} from "./tapped_engine.ts";

/** Appends a line to `path`: how often it ran. Padded to stand out by size. */
function appendLine(path: string, _padding: string): string {
  Deno.writeTextFileSync(path, "ran\n", { append: true });
  return "x".repeat(300);
}

/** Frames this large are tasks and results; pings and pongs are tiny. */
const BIG_FRAME = 250;
const PADDING = "p".repeat(300);

/** A plain msgpack `run` frame that writes `path`: what a relay can make. */
function injectedRun(path: string): Uint8Array {
  return encodeValue({
    t: "run",
    taskId: 999_999,
    fn: {
      kind: "source",
      source: `() => Deno.writeTextFileSync(${JSON.stringify(path)}, "pwned")`,
    },
    args: [],
  });
}

/** Waits for the next frame going `direction` larger than `BIG_FRAME`. */
function nextBigFrame(relay: TapRelay, direction: Direction): {
  body: Promise<Uint8Array>;
} {
  const session = relay.last;
  const from = session.frames[direction].length;
  const body = (async () => {
    await until(
      () =>
        session.frames[direction].slice(from).some((b) =>
          b.byteLength > BIG_FRAME
        ),
      `a big frame ${direction}`,
      HANG_MS,
    );
    return session.frames[direction].slice(from).find((b) =>
      b.byteLength > BIG_FRAME
    )!;
  })();
  return { body };
}

/** Flips one byte in the next big frame going `direction`, once. */
function flipNextBig(relay: TapRelay, direction: Direction): void {
  let done = false;
  relay.rewrite = (d, _index, body) => {
    if (done || d !== direction || body.byteLength <= BIG_FRAME) return body;
    done = true;
    const altered = body.slice();
    altered[altered.byteLength >> 1] ^= 0x20;
    return altered;
  };
}

// ---------------------------------------------------------------------------

Deno.test("sealed: a relay reads nothing, and what it injects, alters or replays is not run", async (t) => {
  await withTappedEngine(
    { encrypt: true },
    async ({ client, relay, engine, logs, dir, backAfter }) => {
      await t.step(
        "tasks, arguments, publications, results: unread",
        async () => {
          assert.equal(helloOf(relay).sealed, true);
          await runMarked(client);
          const toEngine = relay.everything("toEngine");
          const toClient = relay.everything("toClient");
          for (const marker of [SOURCE_MARKER, ARG_MARKER]) {
            assert.ok(!contains(toEngine, marker), `the relay read ${marker}`);
          }
          for (const marker of [RESULT_MARKER, PUB_MARKER]) {
            assert.ok(!contains(toClient, marker), `the relay read ${marker}`);
          }
          // After the handshake no frame is msgpack a relay could parse.
          const session = relay.last;
          for (const body of session.frames.toEngine.slice(2)) {
            assert.throws(() => {
              const v = decodeValue(body) as { t?: unknown };
              if (typeof v?.t !== "string") throw new Error("not a message");
            });
          }
          await engine.waitForStderr(
            /\(frames sealed\)/,
            "sealed registration",
          );
        },
      );

      await t.step(
        "an injected plain run frame drops the connection",
        async () => {
          const marker = `${dir}/injected`;
          await relay.last.inject("toEngine", injectedRun(marker));
          await backAfter(1);
          await engine.waitForStderr(
            /engine 0: connection lost: frame \d+ failed authentication/,
            "the engine's reason",
          );
          await runMarked(client); // Works again, after any chance to run it.
          assert.equal(await exists(marker), false, "the injected task ran");
        },
      );

      await t.step(
        "a flipped byte in a task: EngineError, not run",
        async () => {
          const marker = `${dir}/flipped`;
          flipNextBig(relay, "toEngine");
          const error = await errorOf(
            client.view(0).applyAsync(appendLine, marker, PADDING),
            "the altered task",
            HANG_MS,
          );
          assert.ok(error instanceof EngineError, `got ${error}`);
          relay.rewrite = undefined;
          await backAfter(2);
          await runMarked(client);
          assert.equal(await exists(marker), false, "the altered task ran");
        },
      );

      await t.step(
        "a replayed task frame drops the connection, runs once",
        async () => {
          const marker = `${dir}/replayed`;
          const frame = nextBigFrame(relay, "toEngine");
          const ran = client.view(0).applyAsync(appendLine, marker, PADDING);
          assert.equal(await guard(ran, "the task", HANG_MS), "x".repeat(300));
          await relay.last.inject("toEngine", await frame.body);
          await backAfter(3);
          await runMarked(client);
          assert.equal(await Deno.readTextFile(marker), "ran\n");
        },
      );

      await t.step(
        "a flipped byte in a result: EngineError, not a wrong value",
        async () => {
          const before = logs.length;
          flipNextBig(relay, "toClient");
          const error = await errorOf(
            client.view(0).applyAsync(appendLine, `${dir}/result`, PADDING),
            "the task whose result was altered",
            HANG_MS,
          );
          assert.ok(error instanceof EngineError, `got ${error}`);
          relay.rewrite = undefined;
          await until(
            () =>
              logs.slice(before).some((l) =>
                /closed the connection of .*failed authentication/.test(l)
              ),
            "the client's log line",
            HANG_MS,
          );
          await backAfter(4);
          await runMarked(client);
        },
      );
    },
  );
});

Deno.test("sealed: over a plain session the same relay reads and injects (loopback's default)", async () => {
  await withTappedEngine({}, async ({ client, relay, dir, engine }) => {
    assert.equal(helloOf(relay).sealed, false);
    await runMarked(client);
    assert.ok(contains(relay.everything("toEngine"), SOURCE_MARKER));
    assert.ok(contains(relay.everything("toEngine"), ARG_MARKER));
    assert.ok(contains(relay.everything("toClient"), RESULT_MARKER));
    const marker = `${dir}/injected`;
    await relay.last.inject("toEngine", injectedRun(marker));
    await until(() => exists(marker), "the injected task to run", HANG_MS);
    await engine.waitForStderr(/\(frames plain\)/, "plain registration");
  });
});

Deno.test("sealed: a relay that rewrites the handshake's sealed flag fails it", async (t) => {
  for (const encrypt of [true, false]) {
    await t.step(`sealed: ${encrypt} rewritten to ${!encrypt}`, async () => {
      const logs: string[] = [];
      await withClient({
        workers: 0,
        listen: true,
        encrypt,
        log: (line) => logs.push(line),
      }, async (client) => {
        const { port, key } = client.connectionInfo;
        const relay = new TapRelay({ hostname: "127.0.0.1", port });
        // msgpack's "sealed" key, then true (0xc3) or false (0xc2).
        const key6 = [0xa6, ...text("sealed")];
        relay.rewrite = (direction, index, body) => {
          if (direction !== "toEngine" || index !== 0) return body;
          const out = body.slice();
          for (let i = 0; i + key6.length < out.byteLength; i++) {
            if (key6.every((b, j) => out[i + j] === b)) {
              out[i + key6.length] ^= 0xc3 ^ 0xc2;
              return out;
            }
          }
          throw new Error("no sealed flag in the hello");
        };
        const engine = startHandEngine(
          ["--connect", `127.0.0.1:${relay.port}`],
          { TROUPE_KEY: key },
        );
        try {
          const status = await engine.exited(HANG_MS);
          assert.equal(status.code, 1, engine.stderr());
          assert.match(engine.stderr(), /refused/);
          await until(() => logs.length > 0, "a client log line", HANG_MS);
          assert.match(logs.join("\n"), /altered the handshake/);
          assert.deepEqual(client.ids, [], "no engine registered");
        } finally {
          await engine.kill();
          await relay.close();
        }
      });
    });
  }
});
