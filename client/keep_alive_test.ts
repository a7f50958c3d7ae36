/**
 * The process hold: released between tasks it only unrefs its timer, and a
 * close's release clears it. Deno's sanitizers (on for every test) fail a
 * test that leaves the timer behind; a child process shows that a released
 * hold keeps nothing alive.
 */

import assert from "node:assert/strict";
import { holdProcess } from "./keep_alive.ts";
import { guard } from "../tests/helpers.ts";

Deno.test("holds taken and released one after another, then a close's, leave no timer", () => {
  for (let i = 0; i < 1000; i++) holdProcess()();
  // Overlapping holds: the close's release comes before the last one.
  const result = holdProcess();
  const close = holdProcess({ clearWhenIdle: true });
  close();
  result();
  // The sanitizers fail this test if the timer was left behind.
});

Deno.test("a released hold keeps the process alive no longer", async () => {
  const url = new URL("./keep_alive.ts", import.meta.url).href;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { holdProcess } from ${JSON.stringify(url)};
       const release = holdProcess();
       setTimeout(() => { release(); console.log("released"); }, 20);`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const { code, stdout, stderr } = await guard(child, "the child to end");
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.equal(new TextDecoder().decode(stdout).trim(), "released");
});
