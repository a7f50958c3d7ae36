// The raw limit's other end: a bare web Worker that echoes.
/// <reference lib="deno.worker" />
self.onmessage = (event) => self.postMessage(event.data);
