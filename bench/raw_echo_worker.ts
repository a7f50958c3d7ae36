// The raw limit's other end: a bare node:worker_threads thread that echoes.
import { parentPort } from "node:worker_threads";

parentPort!.on("message", (message) => parentPort!.postMessage(message));
