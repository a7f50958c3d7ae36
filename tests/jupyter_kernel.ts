/**
 * What the tests that drive Deno's Jupyter kernel from Python's
 * `jupyter_client` share: finding a Python that has it, and the kernelspec.
 *
 * @module
 */

import { runCommand } from "../launch/run_command.ts";

/**
 * The first Python that has jupyter_client and a deno kernelspec, or why
 * there is none (for `skipUnless`).
 *
 * @example
 * ```ts ignore
 * import { findPython } from "./jupyter_kernel.ts";
 * const { python, missing } = await findPython();
 * ```
 */
export async function findPython(): Promise<
  { python?: string; missing?: string }
> {
  let why = "no python3 with jupyter_client (python3-jupyter-client)";
  for (const python of ["/usr/bin/python3", "python3"]) {
    const probe = await runCommand(python, [
      "-c",
      "from jupyter_client.kernelspec import KernelSpecManager as K\n" +
      "K().get_kernel_spec('deno')",
    ], { timeoutMs: 30_000 }).catch(() => undefined);
    if (probe === undefined) continue;
    if (probe.code === 0) return { python };
    if (/NoSuchKernel/.test(probe.stderr)) {
      why = "no deno kernelspec (run deno jupyter --install)";
    }
  }
  return { missing: why };
}
