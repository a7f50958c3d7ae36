/**
 * Who may read the dashboard. It shows engine states and everything the
 * engines publish. When the dashboard has a token (it binds anything but
 * loopback, or was given one), a request must carry it (in the URL it
 * prints, then as a cookie; a scraper may send it as
 * `Authorization: Bearer <token>`), and one that does is answered whatever
 * its `Host` header says: Prometheus, a proxy or a port forward name the
 * target as they know it (a DNS name, another port). A dashboard without a
 * token answers only requests whose `Host` names an address it serves: a
 * page on another origin that rebinds its DNS name to this host sends its
 * own name, and is refused. The token needs no such guard: a rebinding page
 * cannot know it, and the browser keeps the cookie for the name it was set
 * under, never sending it to the rebound name.
 *
 * @module
 */

import { isLoopback } from "../transport/loopback.ts";
import { randomHex } from "../transport/random_hex.ts";

/**
 * The checks for one dashboard.
 *
 * @example
 * ```ts
 * import { dashboardAccess } from "./dashboard_access.ts";
 * const access = dashboardAccess("127.0.0.1", { hostname: "127.0.0.1", port: 8765 });
 * console.log(access.url); // http://127.0.0.1:8765/
 * const refused = access.check(
 *   new Request("http://127.0.0.1:8765/", { headers: { host: "evil.example" } }),
 * );
 * console.log(refused?.status); // 403
 * ```
 */
export interface DashboardAccess {
  /** The address to open, with the token when one is needed. */
  readonly url: string;
  /**
   * A refusal (403, with a line saying why and what to do) for a request
   * that may not read the dashboard; `undefined` for one that may.
   */
  check(request: Request): Response | undefined;
  /**
   * Headers for an answer to `request` that passed `check`: the token's
   * cookie when the request carried it in its URL.
   */
  headers(request: Request): Record<string, string>;
}

/**
 * The checks for a dashboard asked to bind `requested` (as the user wrote
 * it) and bound at `bound`. A token is required when it binds anything but
 * loopback, or when `token` is given; without `token` a random one is made.
 *
 * @example
 * ```ts
 * import { dashboardAccess } from "./dashboard_access.ts";
 * const access = dashboardAccess("0.0.0.0", { hostname: "0.0.0.0", port: 8765 });
 * console.log(access.url); // http://0.0.0.0:8765/?token=<64 hex digits>
 * ```
 */
export function dashboardAccess(
  requested: string,
  bound: { hostname: string; port: number },
  token?: string,
): DashboardAccess {
  const { port } = bound;
  const loopback = isLoopback(requested) && isLoopback(bound.hostname);
  const secret = token ?? (loopback ? undefined : randomHex(32));
  // Asked only of a dashboard without a token, which binds loopback.
  const hosts = new Set([bound.hostname, requested].map(bracketed));
  for (const h of ["localhost", "127.0.0.1", "[::1]"]) hosts.add(h);
  // Cookies are per host, not per port: a name per port keeps two
  // dashboards on one host from overwriting each other's.
  const cookie = `troupe_dashboard_${port}`;
  const carries = (request: Request) => {
    if (secret === undefined) return true;
    const given = new URL(request.url).searchParams.get("token") ??
      bearerOf(request) ?? cookieOf(request, cookie);
    return given !== undefined && given !== null && sameSecret(given, secret);
  };
  return {
    url: `http://${bracketed(bound.hostname)}:${port}/` +
      (secret === undefined ? "" : `?token=${secret}`),
    check(request) {
      if (secret !== undefined) {
        if (carries(request)) return undefined;
        return refuse(
          "this dashboard needs its token: open the address it printed, " +
            "which ends in ?token=…",
        );
      }
      const host = request.headers.get("host")?.toLowerCase();
      const [name, at] = host === undefined ? [] : splitHost(host);
      if (name === undefined || at !== port || !hosts.has(name)) {
        return refuse(
          `a request for host ${JSON.stringify(host ?? "")} was refused: ` +
            `this dashboard answers only at its own address; open the ` +
            `address it printed`,
        );
      }
      return undefined;
    },
    headers(request) {
      // The token is in the page's URL: no link may pass it on.
      const out: Record<string, string> = { "referrer-policy": "no-referrer" };
      const given = new URL(request.url).searchParams.get("token");
      // Called after `check` passed: a token in the URL is the right one.
      if (secret !== undefined && given !== null) {
        out["set-cookie"] =
          `${cookie}=${secret}; Path=/; HttpOnly; SameSite=Strict`;
      }
      return out;
    },
  };
}

/**
 * Throws a `TypeError` unless `token` can be a dashboard's token: long
 * enough not to be guessed, and plain enough for a URL and a cookie.
 *
 * @example
 * ```ts
 * import { checkToken } from "./dashboard_access.ts";
 * checkToken("0123456789abcdef0123456789abcdef"); // passes
 * ```
 */
export function checkToken(token: unknown): void {
  if (typeof token === "string" && /^[A-Za-z0-9_-]{16,}$/.test(token)) {
    return;
  }
  const what = typeof token === "string"
    ? `${token.length} characters` +
      (/^[A-Za-z0-9_-]*$/.test(token) ? "" : ", some of them not allowed")
    : typeof token;
  throw new TypeError(
    `the dashboard's token must be at least 16 characters of A-Z, a-z, ` +
      `0-9, - and _ (it goes in a URL and a cookie); got ${what}. Leave it ` +
      `out to get a random one.`,
  );
}

function refuse(why: string): Response {
  return new Response(`troupe dashboard: ${why}\n`, {
    status: 403,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/** `[name, port]` of a `Host` header; a missing port is HTTP's 80. */
function splitHost(host: string): [string, number] | [] {
  const match = host.match(/^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/);
  if (!match) return [];
  return [match[1], match[2] === undefined ? 80 : Number(match[2])];
}

function bracketed(hostname: string): string {
  const host = hostname.toLowerCase();
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/**
 * The token of an `Authorization: Bearer …` header: how a scraper such as
 * Prometheus (`authorization: { credentials }`) sends it, since it keeps no
 * cookie and a token in its URL would show in its target list.
 */
function bearerOf(request: Request): string | undefined {
  const match = request.headers.get("authorization")?.match(
    /^Bearer\s+(\S+)\s*$/i,
  );
  return match?.[1];
}

function cookieOf(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

/** Compares in time that depends on the length only, not on the content. */
function sameSecret(given: string, secret: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(secret);
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
