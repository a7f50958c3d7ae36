/**
 * Who may read the dashboard (dashboard/dashboard_access.ts), over real
 * sockets: a request naming another host is refused, as a page on another
 * origin that rebinds its DNS name to 127.0.0.1 would send; off loopback the
 * dashboard needs its token. Traffic goes to 127.0.0.1 only, also to a
 * dashboard bound to 0.0.0.0.
 */

import assert from "node:assert/strict";
import { errorOf, guard, withClient } from "./helpers.ts";

interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

/**
 * One HTTP/1.1 request written by hand, so that the `Host` header says what
 * the test wants (fetch sets its own). The answer is read to its end: only
 * for answers that end (not an open `/events` stream).
 */
async function rawGet(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<Answer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
    await conn.write(new TextEncoder().encode(
      `GET ${path} HTTP/1.1\r\n${head.join("")}Connection: close\r\n\r\n`,
    ));
    const text = await guard(
      new Response(conn.readable).text(),
      `the answer to GET ${path}`,
    );
    const [top, ...rest] = text.split("\r\n\r\n");
    const [statusLine, ...lines] = top.split("\r\n");
    const out = new Headers();
    for (const line of lines) {
      const at = line.indexOf(":");
      out.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
    }
    return {
      status: Number(statusLine.split(" ")[1]),
      headers: out,
      body: rest.join("\r\n\r\n"),
    };
  } catch (error) {
    conn.close();
    throw error;
  }
}

/** Opens `/events` with fetch and reads its first state, then hangs up. */
async function firstState(
  url: string,
  init: RequestInit = {},
): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    ...init,
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status !== 200) {
    assert.fail(`${response.status}: ${await response.text()}`);
  }
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  const reader = response.body!.pipeThrough(new TextDecoderStream())
    .getReader();
  try {
    let buffer = "";
    while (!buffer.includes("\n\n")) {
      const { value, done } = await reader.read();
      assert.ok(!done, "the stream ended before its first state");
      buffer += value;
    }
    const data = buffer.split("\n").find((l) => l.startsWith("data: "))!;
    return JSON.parse(data.slice(6));
  } finally {
    await reader.cancel();
  }
}

Deno.test("the dashboard answers only requests for its own address", async (t) => {
  await withClient({ workers: 1 }, async (client) => {
    const dashboard = await client.serveDashboard({ updateMs: 50 });
    const { port } = new URL(dashboard.url);
    const p = Number(port);
    try {
      await t.step("another host is refused on / and /events", async () => {
        for (const path of ["/", "/events"]) {
          for (const host of ["evil.example", `evil.example:${port}`]) {
            const answer = await rawGet(p, path, { Host: host });
            assert.equal(answer.status, 403, `${path} for ${host}`);
            assert.match(
              answer.body,
              /^troupe dashboard: a request for host "evil\.example(:\d+)?" was refused: this dashboard answers only at its own address; open the address it printed\n$/,
            );
            assert.doesNotMatch(answer.body, /engine|<html/);
          }
        }
      });

      await t.step("the right host on another port is refused", async () => {
        const answer = await rawGet(p, "/", { Host: `127.0.0.1:${p + 1}` });
        assert.equal(answer.status, 403);
      });

      await t.step("its loopback names are served", async () => {
        for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
          const answer = await rawGet(p, "/", { Host: host });
          assert.equal(answer.status, 200, host);
          assert.match(answer.body, /<title>troupe dashboard<\/title>/);
          assert.equal(answer.headers.get("set-cookie"), null, "no token");
        }
        const state = await firstState(new URL("events", dashboard.url).href);
        assert.equal((state.engines as unknown[]).length, 1);
      });
    } finally {
      await dashboard.close();
    }
  });
});

Deno.test("a dashboard bound off loopback needs its token", async (t) => {
  await withClient({ workers: 1 }, async (client) => {
    const dashboard = await client.serveDashboard({
      hostname: "0.0.0.0",
      updateMs: 50,
    });
    try {
      const printed = new URL(dashboard.url);
      const token = printed.searchParams.get("token")!;
      assert.match(
        dashboard.url,
        /^http:\/\/0\.0\.0\.0:\d+\/\?token=[0-9a-f]{64}$/,
      );
      const p = Number(printed.port);
      // Reached on 127.0.0.1, as a browser on this host would.
      const base = `http://127.0.0.1:${p}`;

      await t.step("without it, or with a wrong one, refused", async () => {
        for (
          const path of [
            "/",
            "/events",
            "/?token=",
            `/?token=${"0".repeat(64)}`,
          ]
        ) {
          const answer = await rawGet(p, path, { Host: `127.0.0.1:${p}` });
          assert.equal(answer.status, 403, path);
          assert.match(
            answer.body,
            /^troupe dashboard: this dashboard needs its token: open the address it printed, which ends in \?token=…\n$/,
          );
        }
        const cookie = await rawGet(p, "/events", {
          Host: `127.0.0.1:${p}`,
          Cookie: `troupe_dashboard_${p}=${token.slice(1)}x`,
        });
        assert.equal(cookie.status, 403);
      });

      await t.step("with it: the page, and a cookie for /events", async () => {
        const page = await rawGet(p, `/?token=${token}`, {
          Host: `127.0.0.1:${p}`,
        });
        assert.equal(page.status, 200);
        assert.match(page.body, /<title>troupe dashboard<\/title>/);
        assert.equal(page.headers.get("referrer-policy"), "no-referrer");
        const setCookie = page.headers.get("set-cookie")!;
        assert.match(setCookie, /HttpOnly/);
        assert.match(setCookie, /SameSite=Strict/);
        const cookie = setCookie.split(";")[0];
        assert.equal(cookie, `troupe_dashboard_${p}=${token}`);
        const state = await firstState(`${base}/events`, {
          headers: { cookie },
        });
        assert.equal((state.engines as unknown[]).length, 1);
        const byQuery = await firstState(`${base}/events?token=${token}`);
        assert.equal((byQuery.engines as unknown[]).length, 1);
      });

      await t.step(
        "/metrics takes it as ?token= or a bearer header",
        async () => {
          const host = { Host: `127.0.0.1:${p}` };
          const refused = [
            await rawGet(p, "/metrics", host),
            await rawGet(p, "/metrics", {
              ...host,
              Authorization: `Bearer ${token.slice(1)}x`,
            }),
            await rawGet(p, "/metrics", { ...host, Authorization: token }),
          ];
          for (const answer of refused) {
            assert.equal(answer.status, 403);
            assert.match(answer.body, /needs its token/);
            assert.doesNotMatch(answer.body, /troupe_engines/);
          }
          for (
            const [path, headers] of [
              [`/metrics?token=${token}`, host],
              ["/metrics", { ...host, Authorization: `Bearer ${token}` }],
              ["/metrics", { ...host, authorization: `bearer  ${token}` }],
            ] as const
          ) {
            const answer = await rawGet(p, path, headers);
            assert.equal(
              answer.status,
              200,
              `${path} ${JSON.stringify(headers)}`,
            );
            assert.equal(
              answer.headers.get("content-type"),
              "text/plain; version=0.0.4; charset=utf-8",
            );
            assert.match(
              answer.body,
              /\ntroupe_engines\{state="idle",kind="worker"\} 1\n/,
            );
          }
        },
      );

      await t.step(
        "for another host: refused without it, answered with it",
        async () => {
          // A rebinding page sends its own name and cannot know the token;
          // Prometheus or a proxy name the target as they know it.
          const bare = await rawGet(p, "/", { Host: `evil.example:${p}` });
          assert.equal(bare.status, 403);
          assert.match(bare.body, /needs its token/);
          const named = await rawGet(p, `/?token=${token}`, {
            Host: `evil.example:${p}`,
          });
          assert.equal(named.status, 200);
        },
      );
    } finally {
      await dashboard.close();
    }
  });
});

Deno.test("the token option", async (t) => {
  await withClient({ workers: 1 }, async (client) => {
    await t.step("given, it is required on loopback too", async () => {
      const token = "a-token-of-my-own_1234";
      const dashboard = await client.serveDashboard({ token });
      try {
        assert.match(
          dashboard.url,
          /^http:\/\/127\.0\.0\.1:\d+\/\?token=a-token-of-my-own_1234$/,
        );
        const p = Number(new URL(dashboard.url).port);
        const without = await rawGet(p, "/", { Host: `127.0.0.1:${p}` });
        assert.equal(without.status, 403);
        const page = await fetch(dashboard.url);
        assert.equal(page.status, 200);
        await page.body?.cancel();
      } finally {
        await dashboard.close();
      }
    });

    await t.step("a short or odd token is a clear error", async () => {
      for (const token of ["short", "a token with spaces in it", 42]) {
        const error = await errorOf(
          client.serveDashboard({ token: token as string }),
          `serveDashboard({ token: ${JSON.stringify(token)} })`,
        );
        assert.ok(error instanceof TypeError);
        assert.match(
          error.message,
          /^the dashboard's token must be at least 16 characters of A-Z, a-z, 0-9, - and _ \(it goes in a URL and a cookie\); got (5 characters|25 characters, some of them not allowed|number)\. Leave it out to get a random one\.$/,
        );
      }
    });
  });
});
