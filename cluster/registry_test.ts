/**
 * Unit tests for the registry's sink table (`lookIn`): publications of the
 * tasks a table knows reach the table's sinks, as long as it knows them.
 */

import assert from "node:assert/strict";
import type { Publication } from "../protocol/publication.ts";
import { type PublicationSink, Registry, type SinkTable } from "./registry.ts";

const pub = (taskId: number, i: number): Publication => ({
  engineId: 0,
  taskId,
  seq: i,
  time: 0,
  data: { i },
});

function sink(): PublicationSink & { got: number[] } {
  const got: number[] = [];
  return { got, publish: (p) => void got.push(p.data.i as number) };
}

function table(): SinkTable & { sinks: Map<number, PublicationSink> } {
  const sinks = new Map<number, PublicationSink>();
  return {
    sinks,
    sinkOf: (taskId) => sinks.get(taskId),
    get watching() {
      return sinks.size;
    },
  };
}

Deno.test("Registry.lookIn: a table's tasks get their publications while it knows them; a watched task's own sink comes first", () => {
  const registry = new Registry();
  const routes = table();
  registry.lookIn(routes);
  const a = sink();
  const b = sink();
  const watched = sink();
  routes.sinks.set(1, a);
  routes.sinks.set(2, b);
  routes.sinks.set(3, sink());
  registry.tell({ kind: "watch", taskId: 3, sink: watched });
  assert.equal(registry.watched, 4, "three in the table, one watched");

  registry.tell({ kind: "publish", publication: pub(1, 10) });
  registry.tell({ kind: "publish", publication: pub(2, 20) });
  registry.tell({ kind: "publish", publication: pub(3, 30) });
  routes.sinks.delete(1); // task 1 ended
  registry.tell({ kind: "publish", publication: pub(1, 11) });
  assert.deepEqual(a.got, [10]);
  assert.deepEqual(b.got, [20]);
  assert.deepEqual(watched.got, [30]);
  assert.equal(registry.latest(0)?.data.i, 11, "the latest is kept anyway");

  registry.tell({ kind: "close" });
  registry.tell({ kind: "publish", publication: pub(2, 21) });
  assert.deepEqual(b.got, [20], "nothing is routed once closed");
});

Deno.test("Registry.lookIn: one table; the same again is fine, another is refused", () => {
  const registry = new Registry();
  const routes = table();
  registry.lookIn(routes);
  registry.lookIn(routes);
  assert.throws(() => registry.lookIn(table()), /already looks in another/);
});
