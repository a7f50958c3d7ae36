import assert from "node:assert/strict";
import { dashboardAccess } from "./dashboard_access.ts";

/** The status `access` gives a request for `path` naming `host`. */
function status(
  access: ReturnType<typeof dashboardAccess>,
  host: string | undefined,
  path = "/",
): number {
  const headers: Record<string, string> = host === undefined ? {} : { host };
  return access.check(new Request(`http://x${path}`, { headers }))?.status ??
    200;
}

Deno.test("dashboardAccess: which Host headers a dashboard answers", async (t) => {
  await t.step("bound to 127.0.0.1: its loopback names, its port", () => {
    const access = dashboardAccess("127.0.0.1", {
      hostname: "127.0.0.1",
      port: 8765,
    });
    for (const host of ["127.0.0.1:8765", "localhost:8765", "[::1]:8765"]) {
      assert.equal(status(access, host), 200, host);
    }
    assert.equal(status(access, "LOCALHOST:8765"), 200, "names ignore case");
    for (
      const host of [
        "evil.example:8765",
        "127.0.0.1", // port 80
        "127.0.0.1:8766",
        "127.0.0.2:8765",
        "localhost.evil.example:8765",
        "127.0.0.1:8765.evil.example",
        "",
        undefined,
      ]
    ) {
      assert.equal(status(access, host), 403, String(host));
    }
  });

  await t.step("bound to ::1: brackets", () => {
    const access = dashboardAccess("::1", { hostname: "::1", port: 80 });
    assert.equal(access.url, "http://[::1]:80/");
    assert.equal(status(access, "[::1]"), 200, "port 80 may be left out");
    assert.equal(status(access, "[::1]:80"), 200);
    assert.equal(status(access, "::1"), 403);
  });

  await t.step("with a token: answered whatever the Host says", () => {
    // Prometheus, a proxy or a port forward name the target as they know it.
    const access = dashboardAccess("0.0.0.0", {
      hostname: "0.0.0.0",
      port: 8765,
    });
    const token = new URL(access.url).searchParams.get("token")!;
    const hosts = [
      "10.1.2.3:8765",
      "127.0.0.1:8765",
      "localhost:8765",
      `${Deno.hostname()}:8765`,
      "node1.example.org:9464",
      undefined,
    ];
    for (const host of hosts) {
      assert.equal(status(access, host, `/?token=${token}`), 200, host);
      const bearer = access.check(
        new Request("http://x/metrics", {
          headers: { authorization: `Bearer ${token}`, host: host ?? "" },
        }),
      );
      assert.equal(bearer, undefined, host);
      assert.equal(status(access, host), 403, `${host} without the token`);
      assert.equal(status(access, host, "/?token=wrong"), 403, host);
    }
  });

  await t.step("bound to a name: the token, whatever the Host", () => {
    const access = dashboardAccess("box.lan", {
      hostname: "10.1.2.3",
      port: 8765,
    });
    const path = `/?token=${new URL(access.url).searchParams.get("token")}`;
    assert.equal(status(access, "box.lan:8765", path), 200);
    assert.equal(status(access, "10.9.9.9:8765", path), 200);
    assert.equal(status(access, "box.lan:8765"), 403);
  });

  await t.step("a loopback dashboard given a token needs it", () => {
    const access = dashboardAccess("127.0.0.1", {
      hostname: "127.0.0.1",
      port: 8765,
    }, "0123456789abcdef0123");
    assert.equal(status(access, "127.0.0.1:8765"), 403);
    assert.equal(
      status(access, "127.0.0.1:8765", "/?token=0123456789abcdef0123"),
      200,
    );
  });
});

Deno.test("dashboardAccess: a token per dashboard, a cookie per port", () => {
  const a = dashboardAccess("0.0.0.0", { hostname: "0.0.0.0", port: 1001 });
  const b = dashboardAccess("0.0.0.0", { hostname: "0.0.0.0", port: 1002 });
  const tokenOf = (url: string) => new URL(url).searchParams.get("token")!;
  assert.notEqual(tokenOf(a.url), tokenOf(b.url));
  const request = new Request(`http://x/?token=${tokenOf(a.url)}`, {
    headers: { host: "127.0.0.1:1001" },
  });
  assert.equal(a.check(request), undefined);
  assert.match(a.headers(request)["set-cookie"], /^troupe_dashboard_1001=/);
  const withCookie = (cookie: string) =>
    a.check(
      new Request("http://x/events", {
        headers: { host: "127.0.0.1:1001", cookie },
      }),
    )?.status ?? 200;
  assert.equal(withCookie(`troupe_dashboard_1001=${tokenOf(a.url)}`), 200);
  assert.equal(
    withCookie(`other=1; troupe_dashboard_1001=${tokenOf(a.url)}; x=2`),
    200,
  );
  assert.equal(withCookie(`troupe_dashboard_1002=${tokenOf(a.url)}`), 403);
  assert.equal(withCookie(`troupe_dashboard_1001=${tokenOf(b.url)}`), 403);
});
