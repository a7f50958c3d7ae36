// The idle pool as views and the client's queries see it: a stopped pool's
// first call is planned for the engines its start brings, and queueStatus
// and engines() do not grow with every stop.
import assert from "node:assert/strict";
import { engineId } from "../mod.ts";
import { CLIENT_SIDES } from "./client_sides.ts";
import {
  ENGINE_KINDS,
  engines,
  guard,
  range,
  suiteKind,
  withClientOn,
} from "./helpers.ts";

for (const side of CLIENT_SIDES) {
  for (const kind of ENGINE_KINDS) {
    const name = `${suiteKind(kind, side)} idle pool`;
    const options = { ...engines(kind, 3), idleTimeoutMs: 30_000 };

    Deno.test(`${name}: imap's default maxOutstanding, read while no engine is up, is twice the engines a start brings`, async () => {
      await withClientOn(side, options, async (client) => {
        assert.deepEqual(client.ids, []);
        let inFlight = 0;
        let most = 0;
        function* items() {
          for (const i of range(12)) {
            inFlight++;
            most = Math.max(most, inFlight);
            yield i;
          }
        }
        const lv = client.loadBalancedView();
        const seen = await guard(
          (async () => {
            const ran: number[] = [];
            for await (
              const ranOn of lv.imap(async (_: number) => {
                await new Promise((r) => setTimeout(r, 300));
                return engineId;
              }, items())
            ) {
              inFlight--;
              ran.push(ranOn as number);
            }
            return ran;
          })(),
          "imap on the idle pool",
          120_000,
        );
        assert.equal(seen.length, 12);
        // Planned for one engine, one item would be in flight at a time.
        assert.equal(most, 6, `at most ${most} items were in flight`);
      });
    });

    Deno.test(`${name}: mapAsync's default chunks, planned while no engine is up, are for the engines a start brings`, async () => {
      await withClientOn(side, options, async (client) => {
        assert.deepEqual(client.ids, []);
        const lv = client.loadBalancedView();
        const ar = lv.mapAsync((x: number) => x, range(600));
        // 600 items over 3 engines, 8 chunks each: 24 tasks (8 for one).
        assert.equal(ar.taskIds.length, 24);
        assert.deepEqual(await guard(ar, "the map", 120_000), range(600));
      });
    });
  }
}
