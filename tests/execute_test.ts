/**
 * `execute` as a newcomer uses it, and what `pull` and tasks say about the
 * globals it and `push` leave behind, on a Worker engine and a process
 * engine of one client: code sees `engineId` and `publishData`; `let`,
 * `const` and `class` persist and `pull` reads them; top-level `await`,
 * `import` declarations and `import()` work; errors name their line; and a
 * name lost with a restart says that the engine restarted since it was
 * pushed.
 */

import assert from "node:assert/strict";
import { type Client, CompositeError, engineId, RemoteError } from "../mod.ts";
import { startHandEngine } from "./hand_engine.ts";
import { errorOf, until, withClient } from "./helpers.ts";

/** How long anything that must not hang may take (never a speed test). */
const HANG_MS = 30_000;

const BOTH = { workers: 1, processes: 1 };

/** Engine-side globals, for tasks that read what execute declared. */
type G = Record<string, unknown>;

/** The engine ids of the client, by kind. */
function kinds(client: Client): { worker: number; process: number } {
  const of = (kind: string) =>
    client.engines().find((e) => e.kind === kind)!.engineId;
  return { worker: of("worker"), process: of("process") };
}

/** A RemoteError from each engine of a CompositeError, in engine order. */
function remoteErrors(error: Error): RemoteError[] {
  assert.ok(error instanceof CompositeError, String(error));
  assert.ok(error.errors.every((e) => e instanceof RemoteError));
  return (error.errors as RemoteError[]).sort((a, b) =>
    a.engineId - b.engineId
  );
}

/** A time of day as the hints print it. */
const CLOCK = String.raw`\d\d:\d\d:\d\d`;

Deno.test("execute sees what tasks see: engineId and publishData", async () => {
  await withClient(BOTH, async (client) => {
    const dv = client.view();
    await dv.execute(
      "globalThis.seenId = engineId;\npublishData({ from: engineId });",
    );
    assert.deepEqual(await dv.pull("seenId"), client.ids);
    await until(
      () =>
        client.ids.every((id) => client.registry.latest(id)?.data.from === id),
      "each engine's publication from execute",
      HANG_MS,
    );
    // They are troupe's constants: declaring them again says so (and
    // names no wrong line: the clash is found before line 1 runs).
    const e = await errorOf(
      dv.execute("var a0 = 0;\n\nvar engineId = 3;"),
      "var engineId",
    );
    for (const r of remoteErrors(e)) {
      assert.equal(r.remoteName, "SyntaxError");
      assert.match(r.message, /engineId is troupe's own constant/);
      assert.doesNotMatch(r.message, /line 1\b/);
    }
    assert.deepEqual(await dv.applySync(() => engineId), client.ids);
  });
});

Deno.test("execute: let, const and class persist, and pull reads them", async () => {
  await withClient(BOTH, async (client) => {
    const dv = client.view();
    await dv.execute(
      "const c1 = engineId * 10;\nlet l1 = 'l';\nclass K1 { v() { return 7; } }",
    );
    const ids = client.ids;
    assert.deepEqual(
      await dv.pull(["c1", "l1"]),
      ids.map((id) => [id * 10, "l"]),
    );
    // Not properties of globalThis, but later code and tasks see them.
    await dv.execute("var sum1 = c1 + 1;");
    assert.deepEqual(await dv.pull("sum1"), ids.map((id) => id * 10 + 1));
    assert.deepEqual(
      await dv.applySync(() => [
        "c1" in globalThis,
        (0, eval)("new K1().v()"),
      ]),
      ids.map(() => [false, 7]),
    );
    // push sets a let where tasks see it; a const cannot be pushed.
    await dv.push({ l1: "pushed" });
    assert.deepEqual(await dv.pull("l1"), ids.map(() => "pushed"));
    assert.deepEqual(
      await dv.applySync(() => (0, eval)("l1")),
      ids.map(() => "pushed"),
    );
    for (
      const r of remoteErrors(await errorOf(dv.push({ c1: 5 }), "push c1"))
    ) {
      assert.equal(r.remoteName, "TypeError");
      assert.match(r.message, /"c1" is a const on engine \d.*let or var/);
    }
    // Declaring a const again says why it fails and what to do.
    for (
      const r of remoteErrors(await errorOf(dv.execute("const c1 = 2;"), "c1"))
    ) {
      assert.equal(r.remoteName, "SyntaxError");
      assert.match(r.message, /'c1' has already been declared.*assign c1/);
    }
    // A name that exists nowhere still says so, as before, with no hint.
    const missing = await errorOf(
      client.view(ids[0]).pull("neverDefined_q9"),
      "missing",
    );
    assert.ok(missing instanceof RemoteError);
    assert.equal(
      missing.remoteMessage,
      `"neverDefined_q9" is not defined on engine ${
        ids[0]
      }: push it or define it first`,
    );
    assert.doesNotMatch(missing.message, /restart/);
    // Words that are not names are not read as code.
    const word = await errorOf(client.view(ids[0]).pull("this"), "this");
    assert.match(word.message, /"this" is not defined/);
  });
});

Deno.test("execute: top-level await, and its declarations persist", async () => {
  await withClient(BOTH, async (client) => {
    const dv = client.view();
    const ids = client.ids;
    await dv.execute([
      "const w = await Promise.resolve(engineId);",
      "var v2 = await new Promise((r) => setTimeout(() => r(2), 1));",
      "function f2() { return w + v2; }",
      "for (var i2 = 0; i2 < 3; i2++) {}",
      "if (true) { var nested2 = 'n'; let hidden2 = 1; }",
      "class K2 { static k = w; }",
      "publishData({ awaited: w });",
    ].join("\n"));
    assert.deepEqual(
      await dv.pull(["w", "v2", "i2", "nested2"]),
      ids.map((id) => [id, 2, 3, "n"]),
    );
    assert.deepEqual(
      await dv.applySync(() => [
        ((globalThis as G).f2 as () => number)(),
        (0, eval)("K2.k"),
      ]),
      ids.map((id) => [id + 2, id]),
    );
    // let inside a block stays in the block, as in any script
    const hidden = await errorOf(dv.pull("hidden2"), "hidden2");
    assert.match(hidden.message, /"hidden2" is not defined/);
    await until(
      () => ids.every((id) => client.registry.latest(id)?.data.awaited === id),
      "publications after an await",
      HANG_MS,
    );
    // An error after an await names its line; what ran before it stays.
    const e = await errorOf(
      dv.execute(
        "var before3 = 1;\nawait null;\n\nnull.boom;\nvar after3 = 1;",
      ),
      "error after await",
    );
    for (const r of remoteErrors(e)) {
      assert.equal(r.remoteName, "TypeError");
      assert.match(r.message, /\(line 4 of the executed code\)/);
    }
    assert.deepEqual(
      await dv.pull(["before3", "after3"]),
      ids.map(() => [1, undefined]),
    );
  });
});

Deno.test("execute: SyntaxErrors name their line", async () => {
  await withClient(BOTH, async (client) => {
    const dv = client.view();
    for (
      const code of [
        "var a = 1;\n\nvar = ;",
        "await 1;\n\nvar = ;", // not "await is only valid...": the real error
      ]
    ) {
      for (const r of remoteErrors(await errorOf(dv.execute(code), code))) {
        assert.equal(r.remoteName, "SyntaxError");
        assert.match(r.message, /\(line 3 of the executed code\)/, code);
        assert.doesNotMatch(r.message, /await is only valid/, code);
      }
    }
    const e = await errorOf(
      dv.execute("var x4 = 1;\nexport { x4 };"),
      "export",
    );
    for (const r of remoteErrors(e)) {
      assert.equal(r.remoteName, "SyntaxError");
      assert.match(r.message, /export on line 2: .*not as a module/);
    }
  });
});

Deno.test("execute: import declarations and import() of file:, npm: and relative specifiers", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe_execute_" });
  try {
    const module = `${dir}/answers.mjs`;
    await Deno.writeTextFile(
      module,
      "export const answer = 42;\nexport default 'dflt';\n",
    );
    const url = new URL(`file://${module}`).href;
    // Relative specifiers resolve against the engine's working directory.
    const relative = "../".repeat(Deno.cwd().split("/").length - 1) +
      module.slice(1);
    await withClient(BOTH, async (client) => {
      const dv = client.view();
      const ids = client.ids;
      await dv.execute([
        `import dflt, { answer as ans } from "${url}";`,
        `import * as whole from "${url}";`,
        'import { encode } from "npm:@msgpack/msgpack@3.1.3";',
        `const rel = await import("${relative}");`,
        "var checks = [whole.answer, typeof encode, rel.answer];",
      ].join("\n"));
      assert.deepEqual(
        await dv.pull(["dflt", "ans", "checks"]),
        ids.map(() => ["dflt", 42, [42, "function", 42]]),
      );
      // import() in plain code (no wrapper needed) works too.
      await dv.execute(
        `import("${url}").then((m) => { globalThis.late = m.answer; });`,
      );
      await until(
        async () =>
          (await dv.pull("late").catch(() => [])).length === ids.length,
        "import() from plain code",
        HANG_MS,
      );
      // A module that cannot be found is a RemoteError naming it.
      const e = await errorOf(
        dv.execute(`import { x } from "${url}.missing";`),
        "missing module",
      );
      for (const r of remoteErrors(e)) {
        assert.match(r.message, /answers\.mjs\.missing/);
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** What a task uses without having it: the name that a push had set. */
declare const other: number;

/** A task that never ends: only an abort stops it. */
const forever = () => new Promise<never>(() => {});

/** Ends its engine. */
const exit = () => Deno.exit(1);

/** Waits until engine `id` has been restarted past `before` and is up. */
async function restarted(client: Client, id: number, before: number) {
  await until(
    () =>
      client.engines().find((e) => e.engineId === id)!.restarts > before &&
      client.engines().find((e) => e.engineId === id)!.state === "idle",
    `engine ${id} restarted`,
    HANG_MS,
  );
}

Deno.test("after a restart, a missing name says that the engine restarted since it was pushed", async () => {
  await withClient({
    ...BOTH,
    restart: { maxRestarts: 20, withinMs: 60_000, backoffMs: 1 },
  }, async (client) => {
    const ids = kinds(client);
    for (const [kind, id] of Object.entries(ids)) {
      const one = client.view(id);
      const restarts = () =>
        client.engines().find((e) => e.engineId === id)!.restarts;
      // Before any restart: no hint.
      const fresh = await errorOf(one.pull("kept"), `${kind}: fresh`);
      assert.doesNotMatch(fresh.message, /restart/, kind);

      for (
        const [how, end, reason] of [
          ["Deno.exit", () => one.applyAsync(exit), /because it .+/],
          ["abort", async () => {
            const ar = one.applyAsync(forever);
            await until(
              () =>
                client.engines().find((e) => e.engineId === id)!
                  .currentTaskId !== undefined,
              "running",
              HANG_MS,
            );
            await ar.abort();
            await ar.get().catch(() => {});
          }, /to abort task \d+/],
        ] as const
      ) {
        await one.push({ kept: 1, other: 2 });
        await one.execute("var fromCode = 3;");
        const before = restarts();
        await end().then(() => {}, () => {});
        await restarted(client, id, before);

        const pulled = await errorOf(one.pull("kept"), `${kind} ${how}: pull`);
        assert.ok(pulled instanceof RemoteError, String(pulled));
        assert.equal(
          pulled.remoteMessage,
          `"kept" is not defined on engine ${id}: push it or define it first`,
        );
        assert.match(
          pulled.message,
          new RegExp(
            `kept was pushed to engine ${id} at ${CLOCK}; since then engine ` +
              `${id} restarted at ${CLOCK} because .+, and a restart loses an ` +
              `engine's globals\\. Push kept again\\.`,
          ),
          `${kind} ${how}`,
        );
        assert.match(pulled.message, reason, `${kind} ${how}`);

        // A task that misses it says the same.
        const task = await errorOf(
          one.applyAsync(() => other),
          `${kind} ${how}: task`,
        );
        assert.ok(task instanceof RemoteError);
        assert.equal(task.remoteName, "ReferenceError");
        assert.match(
          task.message,
          /other was pushed to engine \d+ at .* Push other again\./,
        );
        assert.doesNotMatch(task.remoteMessage, /restarted/);

        // A name only execute defined: the hint says what was set last.
        const code = await errorOf(one.pull("fromCode"), `${kind}: fromCode`);
        assert.match(
          code.message,
          /Since values were last run on it with execute at .*restarted at .*execute the code again/,
        );

        // Pushed again: found, and the hint is gone for it.
        await one.push({ kept: 1 });
        assert.equal(await one.pull("kept"), 1);
        await one.execute("var fromCode = 3;");
        const now = await errorOf(one.pull("neverPushed_q9"), "never pushed");
        assert.doesNotMatch(now.message, /restart/, `${kind} ${how}`);
      }
    }
  });
});

Deno.test("after a remote engine reconnects, a missing name says that it restarted since it was pushed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe_execute_" });
  try {
    await withClient({ workers: 0, listen: true }, async (client) => {
      const path = `${dir}/conn.json`;
      await client.writeConnectionFile(path);
      const engine = startHandEngine(["--file", path]);
      try {
        await client.waitForEngines(1, { timeoutMs: HANG_MS });
        const one = client.view(0);
        assert.equal(client.engines()[0].kind, "remote");
        await one.push({ kept: 1 });
        // The task thread dies: the client drops the engine, which
        // connects again with a fresh thread (and no globals).
        await one.applyAsync(exit).then(() => {}, () => {});
        await restarted(client, 0, 0);
        const e = await errorOf(one.pull("kept"), "pull after reconnect");
        assert.ok(e instanceof RemoteError, String(e));
        assert.match(
          e.message,
          new RegExp(
            `kept was pushed to engine 0 at ${CLOCK}; since then engine 0 ` +
              `restarted at ${CLOCK} because .+, and a restart loses`,
          ),
        );
      } finally {
        await engine.kill();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
