/**
 * A flood of bad connections does not flood the client's log: the drops are
 * summarised (transport/log_limiter.ts), and the summary counts them all.
 */

import assert from "node:assert/strict";
import { guard, range, withClient } from "./helpers.ts";

/** Sends an HTTP request where a handshake should be, and waits for the drop. */
async function badHandshake(port: number): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
    );
    const buffer = new Uint8Array(4096);
    // Until the client hangs up: EOF, or a reset if it still held our bytes.
    while ((await conn.read(buffer).catch(() => null)) !== null);
  } finally {
    conn.close();
  }
}

Deno.test("300 bad handshakes log a few lines that count all 300", async () => {
  const lines: string[] = [];
  await withClient(
    { workers: 0, listen: true, log: (line) => lines.push(line) },
    async (client) => {
      const { port } = client.connectionInfo;
      // In batches, so that the flood stays within the listen backlog.
      for (let batch = 0; batch < 6; batch++) {
        await guard(
          Promise.all(range(50).map(() => badHandshake(port))),
          `batch ${batch} of bad handshakes to be dropped`,
          30_000,
        );
      }
      await client.close(); // Logs the summary still pending.
    },
  );
  const drops = lines.filter((l) => /dropped/.test(l));
  assert.deepEqual(drops, lines, "every line is about the drops");
  assert.ok(
    drops.length < 10,
    `${drops.length} lines for 300 drops:\n${drops.join("\n")}`,
  );
  assert.match(
    drops[0],
    /^troupe: dropped a connection from 127\.0\.0\.1:\d+: .*HTTP/,
  );
  let counted = 1;
  for (const line of drops.slice(1)) {
    const summary = line.match(
      /^troupe: … and ([\d,]+) more connections? from 127\.0\.0\.1 dropped for the same reason in the last [\d.]+ s$/,
    );
    assert.ok(summary, line);
    counted += Number(summary[1].replaceAll(",", ""));
  }
  assert.equal(counted, 300, drops.join("\n"));
});
