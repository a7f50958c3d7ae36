/**
 * What the sandbox tests (sandbox_test.ts, sandbox_launchers_test.ts)
 * check of a sandboxed engine: that a task's overstep is refused with the
 * message that names the permission and where to widen it.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type Arguments,
  type Client,
  RemoteError,
  type TaskFunction,
} from "../mod.ts";
import { errorOf } from "./waits.ts";

/**
 * Asserts that `error` is a task's refusal of `name` access to `what`.
 *
 * @example
 * ```ts ignore
 * import { assertRefused } from "./sandbox_checks.ts";
 * assertRefused(await errorOf(view.applySync(readPasswd)), "read", "/etc/passwd");
 * ```
 */
export function assertRefused(
  error: unknown,
  name: string,
  what: string,
): void {
  assert.ok(error instanceof RemoteError, `not a RemoteError: ${error}`);
  assert.equal(error.remoteName, "NotCapable");
  assert.ok(
    error.message.includes(
      `the engine's permissions do not allow ${name} access to "${what}": ` +
        "it runs sandboxed (ClientOptions.permissions",
    ),
    error.message,
  );
  assert.doesNotMatch(error.message, /run again with/);
}

/**
 * Asserts that `task(...args)`, run on engine 0 of `client`, is refused
 * `name` access to `what`.
 *
 * @example
 * ```ts
 * import type { Client } from "../mod.ts";
 * import { assertTaskRefused, readPasswd } from "./sandbox_checks.ts";
 * async function cannotRead(client: Client): Promise<void> {
 *   await assertTaskRefused(client, "read", "/etc/passwd", readPasswd);
 * }
 * ```
 */
export async function assertTaskRefused<F extends TaskFunction>(
  client: Client,
  name: string,
  what: string,
  task: F,
  ...args: Arguments<Parameters<NoInfer<F>>>
): Promise<void> {
  assertRefused(
    await errorOf(client.view(0).applySync(task, ...args)),
    name,
    what,
  );
}

/**
 * A task's read of /etc/passwd: what no sandbox here grants.
 *
 * @example
 * ```ts
 * import { readPasswd } from "./sandbox_checks.ts";
 * console.log(typeof readPasswd); // function
 * ```
 */
export const readPasswd = (): Promise<string> =>
  Deno.readTextFile("/etc/passwd");
