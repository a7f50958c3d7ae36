/**
 * The process hold: released between tasks of an open client it only unrefs
 * its timer; with no client open and nothing held, the timer is cleared. Deno's sanitizers (on for every test) fail a
 * test that leaves the timer behind; a child process shows that a released
 * hold keeps nothing alive.
 */

import assert from "node:assert/strict";
import { dropHold, holdProcess, openClient, takeHold } from "./keep_alive.ts";
import { guard } from "../tests/helpers.ts";

Deno.test("holds while a client is open, then its close, leave no timer", () => {
  const closed = openClient();
  for (let i = 0; i < 1000; i++) holdProcess()();
  // Overlapping: the client closes while a result still holds.
  const result = holdProcess();
  closed();
  result();
  // The sanitizers fail this test if the timer was left behind.
});

Deno.test("takeHold and dropHold, alone and beside holdProcess, leave no timer", () => {
  const closed = openClient();
  for (let i = 0; i < 1000; i++) {
    takeHold();
    dropHold();
  }
  takeHold();
  const other = holdProcess();
  dropHold();
  closed();
  other();
  takeHold(); // after the last close, as a result made late
  dropHold();
  // The sanitizers fail this test if the timer was left behind.
});

Deno.test("a hold taken after the last client closed leaves no timer", () => {
  const closed = openClient();
  holdProcess()();
  closed();
  holdProcess()(); // e.g. waitForEngines on a closed client
  closed(); // twice: nothing
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
