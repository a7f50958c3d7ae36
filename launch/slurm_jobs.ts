/**
 * What Slurm says of a launcher's jobs: one `squeue` every `pollMs` for
 * all of them (never one per engine: a controller serving hundreds of
 * engines must not be asked hundreds of times), while any is tracked.
 *
 * @module
 */

import { runCommand } from "./run_command.ts";

/** States in which a job's engine has ended for good. */
const OVER = new Set([
  "BOOT_FAIL",
  "CANCELLED",
  "COMPLETED",
  "DEADLINE",
  "FAILED",
  "NODE_FAIL",
  "OUT_OF_MEMORY",
  "PREEMPTED",
  "REVOKED",
  "SPECIAL_EXIT",
  "TIMEOUT",
]);

/** One tracked job: its last state, and how it ended. */
interface Job {
  state: string;
  ended: PromiseWithResolvers<string>;
  /** Polls that have not listed it: a job just submitted may lag. */
  unseen: number;
}

/**
 * The jobs of one launcher, all submitted under `name`.
 *
 * @example
 * ```ts
 * import { SlurmJobs } from "./slurm_jobs.ts";
 * const jobs = new SlurmJobs("troupe-x1", 2000);
 * console.log(jobs.size); // 0
 * ```
 */
export class SlurmJobs {
  #name: string;
  #pollMs: number;
  #squeue: string;
  #jobs = new Map<string, Job>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #polling = false;
  #lastProblem = "";

  /** Jobs named `name`, polled every `pollMs` with `squeue`. */
  constructor(name: string, pollMs: number, squeue = "squeue") {
    this.#name = name;
    this.#pollMs = pollMs;
    this.#squeue = squeue;
  }

  /** Jobs tracked. */
  get size(): number {
    return this.#jobs.size;
  }

  /**
   * Follows job `jobId` (`JOBID_INDEX`): `ended` resolves with why once it
   * has left the queue or reached a final state; `queued` is true while
   * Slurm holds it pending.
   */
  track(jobId: string): { ended: Promise<string>; queued: () => boolean } {
    const job: Job = {
      state: "PENDING",
      ended: Promise.withResolvers(),
      unseen: 0,
    };
    this.#jobs.set(jobId, job);
    this.#schedule();
    return { ended: job.ended.promise, queued: () => job.state === "PENDING" };
  }

  /** Looks again soon (after a `scancel`), rather than at the next period. */
  soon(): void {
    if (this.#polling) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#schedule(Math.min(200, this.#pollMs));
  }

  #schedule(ms = this.#pollMs): void {
    if (this.#timer !== undefined || this.#polling || this.#jobs.size === 0) {
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#poll();
    }, ms);
    // Engines hold the client's process while it has work (keep_alive.ts).
    Deno.unrefTimer(this.#timer);
  }

  async #poll(): Promise<void> {
    this.#polling = true;
    try {
      const { code, stdout, stderr } = await runCommand(this.#squeue, [
        "--noheader",
        "--array",
        `--name=${this.#name}`,
        "--format=%i|%T",
      ], { timeoutMs: 20_000 });
      if (code !== 0) throw new Error(stderr.trim() || `exit code ${code}`);
      this.#learn(stdout);
      this.#lastProblem = "";
    } catch (error) {
      // Slurm's controller may be busy or restarting: its engines are still
      // connected, so say it once and look again.
      const problem = (error as Error).message;
      if (problem !== this.#lastProblem) {
        console.warn(`troupe: squeue failed (${problem}); retrying`);
        this.#lastProblem = problem;
      }
    } finally {
      this.#polling = false;
      this.#schedule();
    }
  }

  #learn(listing: string): void {
    const states = new Map<string, string>();
    for (const line of listing.split("\n")) {
      const [id, state] = line.trim().split("|");
      if (id && state) states.set(id, state);
    }
    for (const [jobId, job] of this.#jobs) {
      const state = states.get(jobId);
      if (state === undefined) {
        // Two polls without it: gone (MinJobAge passed, or it never ran).
        if (++job.unseen < 2) continue;
        this.#end(jobId, job, `its Slurm job ${jobId} left the queue`);
        continue;
      }
      job.unseen = 0;
      job.state = state;
      if (OVER.has(state.replace(/\+$/, ""))) {
        this.#end(jobId, job, `its Slurm job ${jobId} ended: ${state}`);
      }
    }
  }

  #end(jobId: string, job: Job, why: string): void {
    this.#jobs.delete(jobId);
    job.ended.resolve(why);
  }
}
