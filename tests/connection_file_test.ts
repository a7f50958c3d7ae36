/**
 * `client.writeConnectionFile(path)` puts the key where only its owner can
 * read it, whatever was at `path` before (transport/private_file_test.ts tests
 * the file writing itself).
 */

import assert from "node:assert/strict";
import { withClient, withTempDir } from "./helpers.ts";

Deno.test("writeConnectionFile never lets anyone else read the key", async (t) => {
  await withClient({ workers: 0, listen: true }, async (client) => {
    const { key } = client.connectionInfo;

    await t.step("a planted symlink is replaced, not followed", async () => {
      await withTempDir(async (dir) => {
        const theirs = `${dir}/theirs.txt`;
        await Deno.writeTextFile(theirs, "someone else's file\n");
        await Deno.chmod(theirs, 0o644);
        await Deno.symlink(theirs, `${dir}/conn.json`);
        await client.writeConnectionFile(`${dir}/conn.json`);
        assert.equal(await Deno.readTextFile(theirs), "someone else's file\n");
        const stat = await Deno.lstat(`${dir}/conn.json`);
        assert.ok(stat.isFile, "the path is now a regular file");
        assert.equal(stat.mode! & 0o777, 0o600);
        const info = JSON.parse(await Deno.readTextFile(`${dir}/conn.json`));
        assert.deepEqual(info, client.connectionInfo);
      });
    });

    await t.step(
      "a reader of an older 0644 file at the path does not see the key",
      async () => {
        await withTempDir(async (dir) => {
          const path = `${dir}/conn.json`;
          await Deno.writeTextFile(path, "{}\n");
          await Deno.chmod(path, 0o644);
          using reader = await Deno.open(path, { read: true });
          await client.writeConnectionFile(path);
          const seen = new TextDecoder().decode(
            await new Response(reader.readable).arrayBuffer(),
          );
          assert.equal(seen, "{}\n");
          assert.ok(!seen.includes(key));
          assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
          assert.equal(JSON.parse(await Deno.readTextFile(path)).key, key);
        });
      },
    );

    await t.step("a folder that does not exist is a clear error", async () => {
      await withTempDir(async (dir) => {
        await assert.rejects(
          client.writeConnectionFile(`${dir}/no/conn.json`),
          (error: Error) => {
            assert.match(
              error.message,
              /^cannot write \S+\/no\/conn\.json: the folder \S+\/no does not exist; create it first/,
            );
            return true;
          },
        );
      });
    });
  });
});
