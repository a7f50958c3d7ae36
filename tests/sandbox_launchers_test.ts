/**
 * Sandboxed engines started by launchers: a launcher's own `permissions`
 * win over the client's, and the engines that local, ssh, Slurm and MPI
 * start run sandboxed (a task that oversteps is refused, a task runs)
 * with what troupe gave them before they joined (a secrets folder, a rank
 * variable) taken back. Embedded and connected engine processes:
 * sandbox_test.ts.
 */

import assert from "node:assert/strict";
import {
  type Client,
  type ClientOptions,
  local,
  mpi,
  slurm,
  ssh,
} from "../mod.ts";
import {
  MPI_ENV,
  skipWithout,
  SSH_OPTIONS,
  SSH_TARGET,
} from "./cluster_services.ts";
import { withClient, withTempDir } from "./helpers.ts";
import { assertTaskRefused, readPasswd } from "./sandbox_checks.ts";

const FILE = "sandbox_launchers_test.ts";

Deno.test("a launcher's own permissions win over the client's for its engines", async () => {
  await withTempDir(async (dir) => {
    await withClient({
      workers: 0,
      permissions: { read: true },
      launch: local({ engines: 1, permissions: { read: [dir] } }),
    }, async (client) => {
      await assertTaskRefused(client, "read", "/etc/passwd", readPasswd);
    });
  });
});

/** A launcher's start: an ssh login, an sbatch, an mpiexec, and deno. */
const LAUNCH_MS = 30_000;

/**
 * Starts a client on `options` (its launcher's one engine sandboxed) and
 * checks what each launcher's sandboxed engine must do: refuse, and run;
 * then what `more` checks of that launcher.
 */
async function assertLaunchedSandbox(
  options: ClientOptions,
  more: (client: Client) => Promise<void> = async () => {},
): Promise<void> {
  await withClient({
    workers: 0,
    encrypt: true,
    startTimeoutMs: LAUNCH_MS,
    ...options,
  }, async (client) => {
    await assertTaskRefused(client, "read", "/etc/passwd", readPasswd);
    assert.equal(await client.view(0).applySync((x: number) => x * 2, 21), 42);
    await more(client);
  });
}

const sshSkip = await skipWithout("ssh", FILE);
Deno.test({
  name: "ssh: a sandboxed engine cannot read /etc/passwd and runs a task" +
    sshSkip.because,
  ignore: sshSkip.ignore,
  async fn() {
    await assertLaunchedSandbox({
      launch: ssh({
        hosts: { [SSH_TARGET]: 1 },
        sshArgs: [...SSH_OPTIONS],
        permissions: {},
      }),
    });
  },
});

const slurmSkip = await skipWithout("slurm", FILE);
Deno.test({
  name: "slurm: a sandboxed engine cannot read /etc/passwd and runs a task; " +
    "the secrets folder it read before joining was taken back" +
    slurmSkip.because,
  ignore: slurmSkip.ignore,
  async fn() {
    await withTempDir(async (dir) => {
      const secretsDir = `${dir}/secrets`;
      await assertLaunchedSandbox({
        permissions: {},
        launch: slurm({ engines: 1, pollMs: 500, secretsDir }),
      }, async (client) => {
        await assertTaskRefused(
          client,
          "read",
          secretsDir,
          (path: string) => Deno.readDir(path)[Symbol.asyncIterator]().next(),
          secretsDir,
        );
      });
    });
  },
});

const mpiSkip = await skipWithout("mpi", FILE);
Deno.test({
  name: "mpi: a sandboxed engine cannot read /etc/passwd and runs a task; " +
    "its rank variable was taken back" + mpiSkip.because,
  ignore: mpiSkip.ignore,
  async fn() {
    await withTempDir(async (dir) => {
      await assertLaunchedSandbox({
        launch: mpi({
          engines: 1,
          args: ["--oversubscribe"],
          env: { ...MPI_ENV },
          secretsDir: `${dir}/secrets`,
          permissions: {},
        }),
      }, async (client) => {
        await assertTaskRefused(
          client,
          "env",
          "OMPI_COMM_WORLD_RANK",
          () => Deno.env.get("OMPI_COMM_WORLD_RANK"),
        );
      });
    });
  },
});
