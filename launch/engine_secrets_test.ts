import assert from "node:assert/strict";
import { secretsNeeds, writeEngineSecrets } from "./engine_secrets.ts";
import { withTempDir } from "../tests/helpers.ts";

Deno.test("each engine's secrets get a file only its user can read, in a folder only they can enter", async () => {
  await withTempDir(async (root) => {
    const dir = `${root}/secrets`;
    const secrets = await writeEngineSecrets([
      { engineId: 4, secrets: '{"key":"k4"}' },
      { engineId: 9, secrets: '{"key":"k9"}' },
    ], dir);
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    for (const [slot, key] of [[0, "k4"], [1, "k9"]] as const) {
      const path = secrets.path.replace("{slot}", String(slot));
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      assert.equal(JSON.parse(await Deno.readTextFile(path)).key, key);
    }
    // The name is unguessable: two launches never share one.
    const again = await writeEngineSecrets(
      [{ engineId: 0, secrets: "{}" }],
      dir,
    );
    assert.notEqual(again.path, secrets.path);
    await secrets.remove();
    await again.remove();
    await secrets.remove(); // Twice is fine: an engine may have read one.
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  });
});

Deno.test("a folder others could enter is closed to them first", async () => {
  await withTempDir(async (root) => {
    await Deno.chmod(root, 0o755);
    const secrets = await writeEngineSecrets(
      [{ engineId: 0, secrets: "{}" }],
      root,
    );
    assert.equal((await Deno.stat(root)).mode! & 0o777, 0o700);
    await secrets.remove();
  });
});

Deno.test("secretsNeeds: a relative secretsDir is made absolute, as the launchers write it", () => {
  const needs = secretsNeeds("rel/secrets", ["SLURM_ARRAY_TASK_ID"]);
  assert.deepEqual(needs.read, [`${Deno.cwd()}/rel/secrets`]);
  assert.deepEqual(needs.write, needs.read);
});
