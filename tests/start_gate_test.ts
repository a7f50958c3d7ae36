/**
 * The start gate (cluster/start_gate.ts): a launcher with `startsAtOnce`
 * has at most that many engines starting at once, and the others wait
 * their turn; every one registers, a failing start fails only its turn,
 * and a close while engines wait leaves nothing running. Real engine
 * processes, sealed frames.
 */

import assert from "node:assert/strict";
import { Client, type Launcher, local } from "../mod.ts";
import { errorOf, recordEvents, until } from "./helpers.ts";
import { assertNothingLeft } from "./launch_checks.ts";

/** `local`'s engines, told to start `startsAtOnce` at a time, its starts recorded. */
function recorded(engines: number, startsAtOnce: number) {
  const inner = local({ engines, startsAtOnce });
  const calls: number[][] = [];
  const launcher: Launcher = {
    name: "recorded",
    engines,
    startsAtOnce,
    start: (request) => {
      calls.push(request.engines.map((e) => e.engineId));
      return inner.start(request);
    },
  };
  return { launcher, calls };
}

Deno.test("engines of a gated launcher start in turn, and all register", async () => {
  const { launcher, calls } = recorded(3, 1);
  const client = await Client.start({
    workers: 0,
    launch: launcher,
    encrypt: true,
  });
  const { port } = client.connectionInfo;
  try {
    // Without the gate the three would go to the launcher in one start.
    assert.deepEqual(calls, [[0], [1], [2]]);
    assert.deepEqual(await client.view().applySync(() => 1), [1, 1, 1]);
    const rec = recordEvents(client);
    client.scale(5, launcher);
    await client.waitForEngines(5, { timeoutMs: 60_000 });
    rec.stop();
    assert.deepEqual(calls, [[0], [1], [2], [3], [4]]);
    assert.deepEqual(
      rec.events.filter((e) => e.type === "died" || e.type === "gaveUp"),
      [],
    );
    assert.deepEqual(
      await client.view().applySync(() => 1),
      [1, 1, 1, 1, 1],
    );
  } finally {
    await client.close();
  }
  await assertNothingLeft({ port });
});

Deno.test("local starts twice the cores at once by default, at least 8", async () => {
  assert.equal(
    local({ engines: 1 }).startsAtOnce,
    Math.max(8, 2 * navigator.hardwareConcurrency),
  );
  assert.throws(
    () => local({ engines: 1, startsAtOnce: 0 }),
    /local\(\) needs startsAtOnce, a whole number >= 1, got 0/,
  );
  const bad: Launcher = {
    name: "mine",
    engines: 1,
    startsAtOnce: 1.5,
    start: () => Promise.resolve([]),
  };
  const error = await errorOf(Client.start({ workers: 0, launch: bad }));
  assert.ok(error instanceof RangeError);
  assert.match(
    error.message,
    /the mine launcher's startsAtOnce must be a whole number of at least 1, not 1.5/,
  );
});

Deno.test("a gated start that fails fails its turn, with the launcher's words", async () => {
  let calls = 0;
  const failing: Launcher = {
    name: "broken",
    engines: 2,
    startsAtOnce: 1,
    start: () => {
      calls++;
      return Promise.reject(new Error("no nodes today"));
    },
  };
  const error = await errorOf(
    Client.start({
      workers: 0,
      launch: failing,
      restart: { maxRestarts: 0, withinMs: 1000 },
    }),
  );
  assert.match(
    error.message,
    /broken launcher could not start it: no nodes today/,
  );
  // Each engine had its own turn: the first's failure let the second start.
  assert.equal(calls, 2);
});

Deno.test("a close while engines wait their turn leaves nothing running", async () => {
  const { launcher, calls } = recorded(1, 1);
  const client = await Client.start({
    workers: 0,
    launch: launcher,
    encrypt: true,
  });
  const { port } = client.connectionInfo;
  // scale's wait does not end at close() (its bound does): keep it short.
  let scaling: Promise<Error> | undefined;
  try {
    scaling = errorOf(client.scale(6, launcher, { timeoutMs: 3000 }));
    // One is starting, four wait for their turn: close now.
    await until(() => calls.length === 2, "the second engine's turn");
    assert.ok(client.engines().length === 6);
  } finally {
    await client.close();
  }
  await scaling;
  assert.ok(calls.length < 6, `${calls.length} starts: some never had a turn`);
  await assertNothingLeft({ port });
});
