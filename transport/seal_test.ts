/**
 * Sealed frames on their own: both directions, in order and only in order,
 * and the derivation exactly as PROTOCOL.md states it (checked against
 * WebCrypto called directly).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  FrameSeal,
  SEAL_LABELS,
  SEAL_RECORD_BYTES,
  SEAL_TAG_BYTES,
  SealError,
} from "./seal.ts";

const KEY = "seal-test-key";
const text = (s: string): Uint8Array<ArrayBuffer> =>
  new TextEncoder().encode(s);
const read = (b: Uint8Array) => new TextDecoder().decode(b);
const nonce = () => crypto.getRandomValues(new Uint8Array(32));

async function pair(key = KEY) {
  const nc = nonce();
  const ne = nonce();
  return {
    nc,
    ne,
    client: await FrameSeal.derive(key, nc, ne, "client"),
    engine: await FrameSeal.derive(key, nc, ne, "engine"),
  };
}

async function assertSealError(p: Promise<unknown>, pattern: RegExp) {
  await assert.rejects(p, (error) => {
    assert.ok(error instanceof SealError, `got ${error}`);
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes(KEY), "the key is in the error");
    return true;
  });
}

Deno.test("seal: frames cross both ways, in order, sealed concurrently", async () => {
  const { client, engine } = await pair();
  // Calls made in order and awaited together: the counter goes by call.
  const toEngine = await Promise.all(
    Array.from({ length: 50 }, (_, i) => client.seal(text(`run ${i}`))),
  );
  const opened = await Promise.all(toEngine.map((b) => engine.open(b)));
  assert.deepEqual(
    opened.map(read),
    Array.from({ length: 50 }, (_, i) => `run ${i}`),
  );
  const reply = await engine.seal(text("done"));
  assert.equal(read(await client.open(reply)), "done");
  assert.equal(
    toEngine[0].byteLength,
    text("run 0").byteLength + SEAL_TAG_BYTES,
  );
  assert.equal(indexOf(toEngine[0], text("run 0")), -1, "plaintext shows");
  const empty = await client.seal(new Uint8Array());
  assert.equal((await engine.open(empty)).byteLength, 0);
});

Deno.test("seal: big bodies and views into larger buffers", async () => {
  const { client, engine } = await pair();
  const big = crypto.getRandomValues(new Uint8Array(2 ** 16)).slice();
  const backing = new Uint8Array(big.byteLength + 10);
  backing.set(big, 5);
  const sealed = await client.seal(backing.subarray(5, 5 + big.byteLength));
  // Received as a view into a chunk, as FrameDecoder hands bodies out.
  const chunk = new Uint8Array(sealed.byteLength + 3);
  chunk.set(sealed, 3);
  assert.deepEqual(await engine.open(chunk.subarray(3)), big);
});

Deno.test("seal: an altered, truncated or foreign frame does not open", async (t) => {
  await t.step("a flipped bit anywhere", async () => {
    const body = text("fn: () => Deno.exit()");
    for (const at of [0, 7, body.byteLength, body.byteLength + 15]) {
      const { client, engine } = await pair();
      const sealed = await client.seal(body);
      sealed[at] ^= 1;
      await assertSealError(
        engine.open(sealed),
        /frame 0 failed authentication/,
      );
    }
  });
  await t.step("a plain msgpack frame injected in its place", async () => {
    const { engine } = await pair();
    // { t: "run" } as msgpack: what a relay without the keys could send.
    const plain = new Uint8Array([0x81, 0xa1, 0x74, 0xa3, 0x72, 0x75, 0x6e]);
    await assertSealError(engine.open(plain), /which no sealed frame is/);
    const { engine: other } = await pair();
    const longer = new Uint8Array(64).fill(0x90);
    await assertSealError(other.open(longer), /failed authentication/);
  });
  await t.step("a truncated frame", async () => {
    const { client, engine } = await pair();
    const sealed = await client.seal(text("a whole frame"));
    await assertSealError(engine.open(sealed.subarray(1)), /failed/);
  });
  await t.step("a frame sealed under another key or handshake", async () => {
    const a = await pair();
    const b = await pair();
    await assertSealError(
      b.engine.open(await a.client.seal(text("x"))),
      /failed/,
    );
    const wrongKey = await FrameSeal.derive("other key", a.nc, a.ne, "engine");
    await assertSealError(
      wrongKey.open(await a.client.seal(text("x"))),
      /failed/,
    );
  });
  await t.step("a frame reflected back to its sender", async () => {
    const { client } = await pair();
    const sealed = await client.seal(text("to the engine"));
    await assertSealError(client.open(sealed), /frame 0 failed/);
  });
});

Deno.test("seal: a replayed, reordered or dropped frame does not open", async (t) => {
  await t.step("replayed", async () => {
    const { client, engine } = await pair();
    const first = await client.seal(text("run once"));
    assert.equal(read(await engine.open(first)), "run once");
    await assertSealError(engine.open(first), /frame 1 failed/);
  });
  await t.step("reordered", async () => {
    const { client, engine } = await pair();
    await client.seal(text("0"));
    const second = await client.seal(text("1"));
    await assertSealError(engine.open(second), /frame 0 failed/);
  });
  await t.step("one dropped", async () => {
    const { client, engine } = await pair();
    assert.equal(read(await engine.open(await client.seal(text("0")))), "0");
    await client.seal(text("1")); // Lost on the way.
    await assertSealError(engine.open(await client.seal(text("2"))), /frame 1/);
  });
});

Deno.test("seal: the derivation and nonces are those PROTOCOL.md states", async () => {
  const { nc, ne, client, engine } = await pair();
  const base = await crypto.subtle.importKey(
    "raw",
    text(KEY),
    "HKDF",
    false,
    ["deriveKey"],
  );
  const keyFor = (label: string) =>
    crypto.subtle.deriveKey(
      {
        name: "HKDF",
        hash: "SHA-256",
        salt: new Uint8Array([...nc, ...ne]),
        info: text(label),
      },
      base,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt"],
    );
  assert.equal(SEAL_LABELS.clientToEngine, "troupe 2 sealed client to engine");
  assert.equal(SEAL_LABELS.engineToClient, "troupe 2 sealed engine to client");
  // Record n's nonce: 4 zero bytes, then n as a big-endian 64-bit integer;
  // every record's associated data: the frame's plaintext length, u32 BE.
  const iv = (n: number) => {
    const b = new Uint8Array(12);
    new DataView(b.buffer).setBigUint64(4, BigInt(n));
    return b;
  };
  const u32 = (n: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n);
    return b;
  };
  const expected = async (
    label: string,
    n: number,
    record: Uint8Array<ArrayBuffer>,
    frameBytes: number,
  ) =>
    new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv: iv(n), additionalData: u32(frameBytes) },
        await keyFor(label),
        record,
      ),
    );
  const frames = ["zero", "one", "", "three"].map(text);
  for (const [n, body] of frames.entries()) {
    assert.deepEqual(
      await client.seal(body),
      await expected(SEAL_LABELS.clientToEngine, n, body, body.byteLength),
      `client frame ${n}`,
    );
  }
  assert.deepEqual(
    await engine.seal(frames[0]),
    await expected(SEAL_LABELS.engineToClient, 0, frames[0], 4),
  );
  // A body of 1 MiB + 5 bytes: two records, counters 4 and 5.
  assert.equal(SEAL_RECORD_BYTES, 2 ** 20);
  const big = crypto.getRandomValues(new Uint8Array(2 ** 16));
  const body = new Uint8Array(SEAL_RECORD_BYTES + 5);
  for (let at = 0; at < body.byteLength; at += big.byteLength) {
    body.set(big.subarray(0, body.byteLength - at), at);
  }
  const label = SEAL_LABELS.clientToEngine;
  assert.deepEqual(
    await client.seal(body),
    new Uint8Array([
      ...await expected(
        label,
        4,
        body.slice(0, SEAL_RECORD_BYTES),
        body.byteLength,
      ),
      ...await expected(
        label,
        5,
        body.slice(SEAL_RECORD_BYTES),
        body.byteLength,
      ),
    ]),
  );
});

Deno.test("seal: a frame of many records opens whole, or not at all", async (t) => {
  const record = SEAL_RECORD_BYTES + SEAL_TAG_BYTES;
  const body = crypto.getRandomValues(new Uint8Array(2 ** 16));
  const big = new Uint8Array(3 * SEAL_RECORD_BYTES + 1000);
  for (let at = 0; at < big.byteLength; at += body.byteLength) {
    big.set(body.subarray(0, big.byteLength - at), at);
  }
  await t.step("whole, and the frame after it", async () => {
    const { client, engine } = await pair();
    const sealed = await client.seal(big);
    assert.equal(sealed.byteLength, big.byteLength + 4 * SEAL_TAG_BYTES);
    assert.deepEqual(await engine.open(sealed), big);
    assert.equal(
      read(await engine.open(await client.seal(text("next")))),
      "next",
    );
  });
  await t.step("without its last record", async () => {
    const { client, engine } = await pair();
    const sealed = await client.seal(big);
    await assertSealError(
      engine.open(sealed.subarray(0, 3 * record)),
      /frame 0 failed authentication/,
    );
  });
  await t.step("two records swapped", async () => {
    const { client, engine } = await pair();
    const sealed = await client.seal(big);
    const swapped = sealed.slice();
    swapped.set(sealed.subarray(record, 2 * record), 0);
    swapped.set(sealed.subarray(0, record), record);
    await assertSealError(engine.open(swapped), /frame 0 failed/);
  });
  await t.step("cut into two frames", async () => {
    const { client, engine } = await pair();
    const sealed = await client.seal(big);
    await assertSealError(
      engine.open(sealed.subarray(0, 2 * record)),
      /frame 0 failed/,
    );
  });
  await t.step("a length no sealed frame has", async () => {
    const { engine } = await pair();
    await assertSealError(
      engine.open(new Uint8Array(record + 10)),
      /frame 0 is \d+ bytes, which no sealed frame is/,
    );
  });
});

Deno.test("seal: a frame whose first record fails leaves nothing decrypting", async () => {
  // Its own test: the op sanitizer checks that the decryptions of the other
  // records ended before `open` gave its verdict.
  const { client, engine } = await pair();
  const sealed = await client.seal(new Uint8Array(8 * SEAL_RECORD_BYTES));
  sealed[5] ^= 1;
  await assertSealError(engine.open(sealed), /frame 0 failed/);
});

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.byteLength <= haystack.byteLength; i++) {
    for (let j = 0; j < needle.byteLength; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}
