import assert from "node:assert/strict";
import { parseEngineArgs } from "./main.ts";
import { withTempDir } from "../tests/helpers.ts";

Deno.test("a launched engine reads its slot's secrets file and deletes it", async () => {
  await withTempDir(async (dir) => {
    const secrets = { key: "k1", token: "t1", engineId: 7 };
    await Deno.writeTextFile(`${dir}/s.1.json`, JSON.stringify(secrets));
    Deno.env.set("TROUPE_TEST_SLOT", "1");
    try {
      const args = await parseEngineArgs([
        "--connect",
        "127.0.0.1:5555",
        "--spawned",
        "--secrets",
        `${dir}/s.{slot}.json`,
        "--slot-env",
        "TROUPE_TEST_UNSET,TROUPE_TEST_SLOT",
        "--drain-on",
        "SIGUSR1",
      ]);
      assert.deepEqual(
        [args.key, args.token, args.engineId, args.drainOn, args.spawned],
        ["k1", "t1", 7, "SIGUSR1", true],
      );
    } finally {
      Deno.env.delete("TROUPE_TEST_SLOT");
    }
    await assert.rejects(
      () => Deno.stat(`${dir}/s.1.json`),
      Deno.errors.NotFound,
    );
  });
});

Deno.test("an engine without its slot or its file says what is missing", async () => {
  await assert.rejects(
    () =>
      parseEngineArgs([
        "--connect",
        "127.0.0.1:5555",
        "--secrets",
        "/nowhere/s.{slot}.json",
        "--slot-env",
        "TROUPE_TEST_UNSET",
      ]),
    /needs a slot/,
  );
  await assert.rejects(
    () =>
      parseEngineArgs([
        "--connect",
        "127.0.0.1:5555",
        "--secrets",
        "/nowhere/s.{slot}.json",
        "--slot",
        "0",
      ]),
    /cannot read the engine's secrets at \/nowhere\/s\.0\.json/,
  );
});
