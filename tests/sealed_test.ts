/**
 * Sealed frames end to end, with a real client, real engine processes and a
 * man in the middle (`TapRelay`) between them: over a sealed session the
 * relay reads nothing of the work, and a frame it injects, alters or replays
 * drops the connection instead of being run; over a plain one (loopback's
 * default) it reads and injects at will, which is what shows that the relay
 * is a real attacker. Rewriting the handshake's `sealed` flag fails the
 * handshake; engines that reach their client off loopback insist on sealing.
 *
 * Tasks write marker files for their side effects: "not run" is checked as
 * "the file is not there" after the engine has come back and run a task
 * after the attack, so that the check cannot pass by looking too early.
 */

import assert from "node:assert/strict";
import {
  Client,
  type ClientOptions,
  EngineError,
  type EngineEvent,
  publishData,
} from "../mod.ts";
import { parseEngineArgs } from "../engine/main.ts";
import { decodeValue, encodeValue } from "../transport/codec.ts";
import { FramedConnection } from "../transport/framed_connection.ts";
import { HandshakeError, joinClient } from "../transport/handshake.ts";
import { isLoopback } from "../transport/loopback.ts";
import { TcpServer } from "../transport/tcp_server.ts";
import { type HandEngine, startHandEngine } from "./hand_engine.ts";
import { errorOf, guard, until, withClient } from "./helpers.ts";
import { type Direction, TapRelay } from "./tap_relay.ts";

const HANG_MS = 20_000;

// What the relay must not read: in a task's source, its argument, its
// publication and its result.
const SOURCE_MARKER = "s3cr3t-source-marker";
const ARG_MARKER = "s3cr3t-argument-marker";
const PUB_MARKER = `${ARG_MARKER}-published`;
const RESULT_MARKER = ARG_MARKER.toUpperCase();

/** A task whose every part carries a marker (run shipped, by its source). */
function markedTask(arg: string): string {
  publishData({ note: arg + "-published" });
  return "s3cr3t-source-marker:" + arg.toUpperCase();
}

/** Appends a line to `path`: how often it ran. Padded to stand out by size. */
function appendLine(path: string, _padding: string): string {
  Deno.writeTextFileSync(path, "ran\n", { append: true });
  return "x".repeat(300);
}

/** Frames this large are tasks and results; pings and pongs are tiny. */
const BIG_FRAME = 250;
const PADDING = "p".repeat(300);

const text = (s: string) => new TextEncoder().encode(s);

function contains(haystack: Uint8Array, needle: string): boolean {
  const n = text(needle);
  outer: for (let i = 0; i + n.byteLength <= haystack.byteLength; i++) {
    for (let j = 0; j < n.byteLength; j++) {
      if (haystack[i + j] !== n[j]) continue outer;
    }
    return true;
  }
  return false;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

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

interface Tapped {
  client: Client;
  relay: TapRelay;
  engine: HandEngine;
  logs: string[];
  events: EngineEvent[];
  dir: string;
  /** Waits until engine 0 has died `deaths` times in all and is back. */
  backAfter(deaths: number): Promise<void>;
}

/**
 * A client on 127.0.0.1, a relay in front of it, and an engine process that
 * reaches the client only through the relay (and retries when cut off).
 */
async function withTappedEngine(
  options: ClientOptions,
  body: (t: Tapped) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "troupe_sealed_" });
  const logs: string[] = [];
  const events: EngineEvent[] = [];
  try {
    await withClient({
      workers: 0,
      listen: true,
      log: (line) => logs.push(line),
      onEngineEvent: (event) => events.push(event),
      ...options,
    }, async (client) => {
      const { port, key } = client.connectionInfo;
      const relay = new TapRelay({ hostname: "127.0.0.1", port });
      const engine = startHandEngine(
        ["--connect", `127.0.0.1:${relay.port}`],
        { TROUPE_KEY: key },
      );
      try {
        await guard(client.waitForEngines(1), "the tapped engine", HANG_MS);
        const deathsOf0 = () =>
          events.filter((e) => e.type === "died" && e.engineId === 0).length;
        await body({
          client,
          relay,
          engine,
          logs,
          events,
          dir,
          backAfter: (deaths) =>
            until(
              () =>
                deathsOf0() >= deaths && relay.sessions.length > deaths &&
                client.engines()[0]?.state === "idle",
              `engine 0 back after ${deaths} deaths`,
              HANG_MS,
            ),
        });
      } finally {
        await engine.kill();
        await relay.close();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs the marked task and checks what came back. */
async function runMarked(client: Client): Promise<void> {
  const ar = client.view(0).applyAsync(markedTask, ARG_MARKER);
  assert.equal(
    await guard(ar, "the marked task", HANG_MS),
    `${SOURCE_MARKER}:${RESULT_MARKER}`,
  );
  assert.deepEqual(ar.data, { note: PUB_MARKER });
}

/** The handshake's hello, as the relay saw it go to the engine. */
function helloOf(relay: TapRelay): Record<string, unknown> {
  return decodeValue(relay.sessions[0].frames.toEngine[0]) as Record<
    string,
    unknown
  >;
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

Deno.test("sealed: process engines do real work sealed (tasks, publications, 20 MB)", async () => {
  await withClient({ processes: 2, encrypt: true }, async (client) => {
    const dv = client.view();
    const big = new Float64Array(2_500_000).map((_, i) => i * 0.5); // 20 MB
    await guard(dv.push({ big }), "push 20 MB", HANG_MS);
    const pulled = await guard(dv.pull("big"), "pull 20 MB", HANG_MS);
    assert.deepEqual(pulled, [big, big]);
    const echoed = await guard(
      client.view(0).applyAsync((a: Float64Array) => a, big),
      "a 20 MB round trip",
      HANG_MS,
    );
    assert.deepEqual(echoed, big);
    const ar = dv.applyAsync((n: number) => {
      for (let i = 0; i < n; i++) publishData({ i });
      return n;
    }, 200);
    assert.deepEqual(await guard(ar, "publishing tasks", HANG_MS), [200, 200]);
    assert.deepEqual(ar.data, [{ i: 199 }, { i: 199 }]);
    const lv = client.loadBalancedView({ highWaterMark: 16 });
    const squares = await guard(
      lv.mapAsync(
        (x: number) => x * x,
        Array.from({ length: 500 }, (_, i) => i),
        {
          chunkSize: 1,
        },
      ),
      "a load-balanced map",
      HANG_MS,
    );
    assert.deepEqual(squares, Array.from({ length: 500 }, (_, i) => i * i));
  });
});

Deno.test("sealed: a client listening off loopback seals unasked", async () => {
  await withTappedEngine(
    { listen: { hostname: "0.0.0.0" } },
    async ({ client, relay }) => {
      assert.equal(helloOf(relay).sealed, true);
      await runMarked(client);
      assert.ok(!contains(relay.everything("toEngine"), SOURCE_MARKER));
      assert.ok(!contains(relay.everything("toClient"), RESULT_MARKER));
    },
  );
});

// ------------------------------------------------------ who decides sealing

const OFF_LOOPBACK = Deno.networkInterfaces().find((i) =>
  i.family === "IPv4" && !isLoopback(i.address)
)?.address;

Deno.test({
  name:
    "sealed: off loopback, an engine refuses plain frames unless --allow-plain",
  ignore: OFF_LOOPBACK === undefined,
  fn: async (t) => {
    const hostname = OFF_LOOPBACK!;
    await t.step("a client started with encrypt: false", async () => {
      const logs: string[] = [];
      await withClient({
        workers: 0,
        listen: { hostname },
        encrypt: false,
        log: (line) => logs.push(line),
      }, async (client) => {
        const { port, key } = client.connectionInfo;
        const refuses = startHandEngine(
          ["--connect", `${hostname}:${port}`],
          { TROUPE_KEY: key },
        );
        try {
          await refuses.waitForStderr(/--allow-plain/, "the engine's reason");
          assert.match(refuses.stderr(), /requires sealed/);
          assert.deepEqual(client.ids, []);
        } finally {
          await refuses.kill();
        }
        const allows = startHandEngine(
          ["--connect", `${hostname}:${port}`, "--allow-plain"],
          { TROUPE_KEY: key },
        );
        try {
          await guard(client.waitForEngines(1), "the plain engine", HANG_MS);
          await runMarked(client);
          await allows.waitForStderr(/\(frames plain\)/, "plain registration");
        } finally {
          await allows.kill();
        }
      });
    });

    await t.step(
      "processes of such a client are told --allow-plain",
      async () => {
        await withClient({
          processes: 1,
          listen: { hostname },
          encrypt: false,
        }, async (client) => {
          await runMarked(client);
        });
      },
    );

    await t.step("by default that client seals, and engines join", async () => {
      await withClient(
        { processes: 1, listen: { hostname } },
        async (client) => {
          await runMarked(client);
        },
      );
    });
  },
});

Deno.test("sealed: who asks for sealing, and the errors that say so", async (t) => {
  await t.step("loopback addresses", () => {
    for (
      const host of [
        "127.0.0.1",
        "127.8.9.10",
        "localhost",
        "::1",
        "[::1]",
        "::ffff:127.0.0.1",
      ]
    ) {
      assert.equal(isLoopback(host), true, host);
    }
    for (
      const host of [
        "0.0.0.0",
        "::",
        "10.0.0.5",
        "192.0.2.2",
        "fd00::2",
        "example.com",
        "128.0.0.1",
        "127.0.0.256",
      ]
    ) {
      assert.equal(isLoopback(host), false, host);
    }
  });

  await t.step(
    "engines: sealing required off loopback, unless --allow-plain",
    async () => {
      const args = (at: string, ...more: string[]) =>
        parseEngineArgs(["--connect", at, "--key", "k", ...more]);
      assert.equal((await args("127.0.0.1:5555")).requireSealed, false);
      assert.equal((await args("[::1]:5555")).requireSealed, false);
      assert.equal((await args("10.0.0.5:5555")).requireSealed, true);
      assert.equal(
        (await args("10.0.0.5:5555", "--allow-plain")).requireSealed,
        false,
      );
    },
  );

  await t.step("TcpServer: sealed by default off loopback", async () => {
    const servers = [
      new TcpServer({ key: "k", decide: () => 0, onEngine: () => {} }),
      new TcpServer({
        hostname: "0.0.0.0",
        key: "k",
        decide: () => 0,
        onEngine: () => {},
      }),
      new TcpServer({
        hostname: "0.0.0.0",
        encrypt: false,
        key: "k",
        decide: () => 0,
        onEngine: () => {},
      }),
    ];
    try {
      assert.deepEqual(servers.map((s) => s.encrypt), [false, true, false]);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  });

  await t.step(
    "an engine that requires sealing turns a plain client down",
    async () => {
      const logs: string[] = [];
      const server = new TcpServer({
        key: "k",
        decide: () => 0,
        onEngine: (conn) => conn.close("unexpected"),
        log: (line) => logs.push(line),
      });
      const conn = new FramedConnection(
        await Deno.connect({ hostname: "127.0.0.1", port: server.port }),
      );
      try {
        const error = await errorOf(
          joinClient(conn, "k", {}, 5000, true),
          "joinClient",
        );
        assert.ok(error instanceof HandshakeError);
        assert.match(error.message, /requires sealed/);
        assert.match(error.message, /encrypt: true/);
        assert.match(error.message, /--allow-plain/);
      } finally {
        conn.close("test over");
        await conn.closed;
        await until(() => logs.length > 0, "the server's log line");
        await server.close();
      }
    },
  );

  await t.step("Client.start checks encrypt", async () => {
    const error = await errorOf(
      Client.start({ workers: 0, encrypt: "yes" as unknown as boolean }),
    );
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /encrypt must be true or false, got "yes"/);
  });
});
