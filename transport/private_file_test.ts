import assert from "node:assert/strict";
import { withTempDir } from "../tests/helpers.ts";
import { writePrivateFile } from "./private_file.ts";

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** What is in `dir`, by name, sorted: to see that nothing is left behind. */
async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out.sort();
}

Deno.test("writePrivateFile", async (t) => {
  await t.step("a new file has mode 0600 and the text", async () => {
    await withTempDir(async (dir) => {
      await writePrivateFile(`${dir}/secret`, "key\n");
      const stat = await Deno.lstat(`${dir}/secret`);
      assert.ok(stat.isFile);
      assert.equal(stat.mode! & 0o777, 0o600);
      assert.equal(await Deno.readTextFile(`${dir}/secret`), "key\n");
      assert.deepEqual(await names(dir), ["secret"]);
    });
  });

  await t.step("an old 0644 file is replaced, not rewritten", async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/secret`;
      await Deno.writeTextFile(path, "old");
      await Deno.chmod(path, 0o644);
      // Someone opened the readable file before the secret was written.
      using reader = await Deno.open(path, { read: true });
      await writePrivateFile(path, "new key");
      const seen = new Uint8Array(64);
      const n = await reader.read(seen);
      assert.equal(decode(seen.subarray(0, n ?? 0)), "old");
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      assert.equal(await Deno.readTextFile(path), "new key");
    });
  });

  await t.step("a symlink at the path is replaced, not followed", async () => {
    await withTempDir(async (dir) => {
      const victim = `${dir}/someone_elses_file`;
      await Deno.writeTextFile(victim, "theirs");
      await Deno.chmod(victim, 0o644);
      await Deno.symlink(victim, `${dir}/secret`);
      await writePrivateFile(`${dir}/secret`, "key");
      assert.equal(await Deno.readTextFile(victim), "theirs");
      assert.equal((await Deno.stat(victim)).mode! & 0o777, 0o644);
      const stat = await Deno.lstat(`${dir}/secret`);
      assert.ok(stat.isFile && !stat.isSymlink);
      assert.equal(stat.mode! & 0o777, 0o600);
      assert.equal(await Deno.readTextFile(`${dir}/secret`), "key");
    });
  });

  await t.step(
    "a folder that does not exist is named in the error",
    async () => {
      await withTempDir(async (dir) => {
        await assert.rejects(
          writePrivateFile(`${dir}/nowhere/secret`, "key"),
          (error: Error) => {
            assert.match(
              error.message,
              /^cannot write .*\/nowhere\/secret: the folder .*\/nowhere does not exist; create it first/,
            );
            assert.ok(error.cause instanceof Deno.errors.NotFound);
            return true;
          },
        );
        assert.deepEqual(await names(dir), []);
      });
    },
  );

  await t.step("a failed rename leaves no file behind", async () => {
    await withTempDir(async (dir) => {
      // A non-empty folder cannot be renamed over.
      await Deno.mkdir(`${dir}/secret`);
      await Deno.writeTextFile(`${dir}/secret/inside`, "x");
      await assert.rejects(
        writePrivateFile(`${dir}/secret`, "key"),
        (error: Error) => /^cannot write .*\/secret: /.test(error.message),
      );
      assert.deepEqual(await names(dir), ["secret"]);
      assert.equal(await Deno.readTextFile(`${dir}/secret/inside`), "x");
    });
  });
});

Deno.test("writePrivateFile without permission for the folder names the flags", async () => {
  await withTempDir(async (dir) => {
    const module = new URL("./private_file.ts", import.meta.url).href;
    const folder = `${dir}/out`;
    const path = `${folder}/conn.json`;
    await Deno.mkdir(folder);
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `import { writePrivateFile } from ${JSON.stringify(module)};\n` +
        `await writePrivateFile(${JSON.stringify(path)}, "key");\n`,
    );
    // What the README asked for before: write permission for the file only.
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", `--allow-write=${path}`, `${dir}/main.ts`],
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    const said = new TextDecoder().decode(stderr);
    assert.notEqual(code, 0, said);
    assert.ok(
      said.includes(
        `run the script with --allow-read=${folder} --allow-write=${folder}`,
      ),
      said,
    );
    assert.deepEqual(await names(folder), []);
  });
});
