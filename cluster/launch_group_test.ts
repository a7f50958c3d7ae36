/**
 * The launch group between the supervisor and a launcher: engines asked
 * for in one turn are one `start`; each link ends with its handle and
 * stops it; `close` waits for every stop. The links are real TCP links
 * that no engine has attached to yet; the launchers are the test's own.
 */

import assert from "node:assert/strict";
import { TcpLink } from "../transport/tcp_link.ts";
import type { LaunchedEngine, Launcher, LaunchRequest } from "./launcher.ts";
import { LaunchGroup, type LaunchHost } from "./launch_group.ts";

function host(): LaunchHost {
  return {
    expect: (engineId) => ({
      link: new TcpLink(),
      secrets: JSON.stringify({ engineId }),
    }),
    request: () => ({
      args: ["run", "engine.ts"],
      connect: { hostname: "127.0.0.1", port: 1 },
    }),
  };
}

/** A handle whose end the test decides. */
function handle(log: string[], name: string) {
  const ended = Promise.withResolvers<string>();
  const engine: LaunchedEngine = {
    ended: ended.promise,
    info: { jobId: name },
    stop: () => {
      log.push(`stop ${name}`);
      ended.resolve("stopped");
      return Promise.resolve();
    },
  };
  return { engine, end: (why: string) => ended.resolve(why) };
}

Deno.test("engines asked for in one turn go to the launcher in one start", async () => {
  const requests: LaunchRequest[] = [];
  const log: string[] = [];
  const handles: ReturnType<typeof handle>[] = [];
  const launcher: Launcher = {
    name: "test",
    engines: 3,
    start: (request) => {
      requests.push(request);
      const made = request.engines.map((e) => handle(log, `job${e.engineId}`));
      handles.push(...made);
      return Promise.resolve(made.map((h) => h.engine));
    },
  };
  const group = new LaunchGroup(launcher, host());
  const links = [0, 1, 2].map((id) => group.spawn(id) as TcpLink);
  assert.equal(requests.length, 0, "not before the turn ends");
  await null;
  assert.equal(requests.length, 1);
  assert.deepEqual(requests[0].engines.map((e) => e.engineId), [0, 1, 2]);
  assert.deepEqual(requests[0].args, ["run", "engine.ts"]);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(
    links.map((l) => l.where),
    [0, 1, 2].map((id) => ({
      launcher: "test",
      jobId: `job${id}`,
    })),
  );
  // A job that ends takes its link with it.
  const exits: string[] = [];
  links[1].onExit = (why) => exits.push(why);
  handles[1].end("its job was cancelled");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(exits, ["its job was cancelled"]);
  // Ending a link stops its job; close waits for the stops.
  await links[0].terminate();
  await links[2].terminate();
  await group.close();
  assert.deepEqual(log, ["stop job0", "stop job2"]);
});

Deno.test("a link ended before its launcher answered stops the engine it gets", async () => {
  const log: string[] = [];
  const answer = Promise.withResolvers<LaunchedEngine[]>();
  const group = new LaunchGroup({
    name: "slow",
    engines: 1,
    start: () => answer.promise,
  }, host());
  const link = group.spawn(0) as TcpLink;
  await null;
  const gone = link.terminate();
  answer.resolve([handle(log, "late").engine]);
  await gone;
  await group.close();
  assert.deepEqual(log, ["stop late"]);
});

Deno.test("a launcher that throws fails each of its links with its message", async () => {
  const group = new LaunchGroup({
    name: "broken",
    engines: 2,
    start: () => {
      throw new Error("sbatch: invalid partition");
    },
  }, host());
  const exits: string[] = [];
  for (const id of [0, 1]) {
    (group.spawn(id) as TcpLink).onExit = (why) => exits.push(why);
  }
  await group.close();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(
    exits,
    [0, 1].map(() =>
      "the broken launcher could not start it: sbatch: invalid partition"
    ),
  );
});
