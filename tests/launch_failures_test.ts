/**
 * A launch that cannot even be asked for fails with what is missing,
 * instead of ending the client's process: a launcher's own commands, which
 * its `check()` asks for before anything starts, and the host name that
 * engines of a client listening on 0.0.0.0 dial, which Deno gives only with
 * `--allow-sys=hostname`. The client runs in a `deno run` of its own, with
 * just the permissions its script names.
 */

import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);

/** Runs `script` in a `deno run` with just `permissions`, to its end. */
async function runScript(script: string, permissions: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, "-"],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  return {
    code,
    text: new TextDecoder().decode(stdout),
    errors: new TextDecoder().decode(stderr),
  };
}

Deno.test("a launch whose request needs a missing permission fails Client.start with it, and the process goes on", async () => {
  const script = `
    import { Client, local } from "${new URL("mod.ts", root).href}";
    try {
      await Client.start({
        workers: 0,
        listen: { hostname: "0.0.0.0" },
        launch: local({ engines: 1 }),
        startTimeoutMs: 600_000,
      });
      console.log("started");
    } catch (error) {
      console.log("failed:", error.message);
    }
  `;
  const { code, text, errors } = await runScript(script, [
    "--allow-read",
    "--allow-net",
    "--allow-run",
  ]);
  assert.equal(code, 0, `${text}\n${errors}`);
  assert.doesNotMatch(errors, /Uncaught/);
  // At once, not after startTimeoutMs: the start waits for the engines it
  // started, though the listener lets others join.
  assert.match(
    text,
    /^failed: 1 engines can never be up: this client has 0 engines that are up or starting/,
  );
  assert.match(
    text,
    /engine 0 was given up; it last died because the local launcher could not start it: Requires sys access to "hostname", run again with the --allow-sys flag/,
  );
});

Deno.test("a launcher that may not run its commands fails Client.start at once, naming the flags", async () => {
  const script = `
    import { Client, slurm } from "${new URL("mod.ts", root).href}";
    try {
      await Client.start({ workers: 0, launch: slurm({ engines: 1 }) });
      console.log("started");
    } catch (error) {
      console.log("failed:", error.name, error.message);
    }
  `;
  const { code, text, errors } = await runScript(script, [
    "--allow-read",
    "--allow-net",
  ]);
  assert.equal(code, 0, `${text}\n${errors}`);
  assert.match(
    text,
    /^failed: NotCapable the slurm launcher runs sbatch: run the script with --allow-run=sbatch,squeue,scancel/,
  );
});
