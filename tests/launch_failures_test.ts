/**
 * A launch that cannot even be asked for fails its engines with what is
 * missing, instead of ending the client's process: here, the host name
 * that engines of a client listening on 0.0.0.0 dial, which Deno gives
 * only with `--allow-sys=hostname`. The client runs in a `deno run` of its
 * own, with just the permissions its script names.
 */

import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);

Deno.test("a launch whose request needs a missing permission fails Client.start with it, and the process goes on", async () => {
  const script = `
    import { Client, local } from "${new URL("mod.ts", root).href}";
    try {
      await Client.start({
        workers: 0,
        listen: { hostname: "0.0.0.0" },
        launch: local({ engines: 1 }),
        startTimeoutMs: 2000,
      });
      console.log("started");
    } catch (error) {
      console.log("failed:", error.message);
    }
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-net", "--allow-run", "-"],
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
  const text = new TextDecoder().decode(stdout);
  const errors = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `${text}\n${errors}`);
  assert.doesNotMatch(errors, /Uncaught/);
  assert.match(text, /^failed: 0 of 1 engines are up after 2000 ms/);
  assert.match(
    text,
    /engine 0 was given up; it last died because the local launcher could not start it: Requires sys access to "hostname", run again with the --allow-sys flag/,
  );
});
