/**
 * The checks every launcher's options go through: names first (a misspelt
 * option is an error, not ignored), then the engine count.
 *
 * @module
 */

import { checkOptions, type OptionNames } from "../protocol/check_options.ts";
import { checkEnginePermissions } from "../protocol/engine_permissions.ts";

/**
 * Throws a `TypeError` naming a misspelt option of launcher `name`, or a
 * `RangeError` when `engines` (required when `names` has it) is not a whole
 * number >= 0; a `TypeError` for `permissions` that are not
 * `EnginePermissions`.
 *
 * @example
 * ```ts
 * import { checkLauncherOptions } from "./launcher_options.ts";
 * checkLauncherOptions("local", { engines: 2 }, { engines: true });
 * ```
 */
export function checkLauncherOptions<T extends object>(
  name: string,
  options: T,
  names: OptionNames<T>,
): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `${name}() takes an object of options, got ${Deno.inspect(options)}`,
    );
  }
  checkOptions(`${name}() options`, options, names);
  const { permissions } = options as { permissions?: unknown };
  if (permissions !== undefined) {
    checkEnginePermissions(`${name}() permissions`, permissions);
  }
  const { engines } = options as { engines?: unknown };
  const needed = "engines" in names;
  if (
    (needed || engines !== undefined) &&
    !(Number.isInteger(engines) && (engines as number) >= 0)
  ) {
    throw new RangeError(
      `${name}() needs engines, a whole number >= 0, got ${
        Deno.inspect(engines)
      }`,
    );
  }
}

/**
 * `text` as one word of a POSIX shell command line: what `ssh` and job
 * scripts need, since both hand their command to a shell.
 *
 * @example
 * ```ts
 * import { shellQuote } from "./launcher_options.ts";
 * console.log(shellQuote("it's")); // 'it'\''s'
 * ```
 */
export function shellQuote(text: string): string {
  if (/^[\w@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
