/**
 * A JSR registry on 127.0.0.1 for tests: `deno publish` uploads to it as it
 * would to jsr.io, and `deno add` / `deno run jsr:` read from it, both
 * through `JSR_URL`. What it serves is exactly what `deno publish` sent (its
 * gzipped tarball, with import-map specifiers already unfurled), never a copy
 * of the checkout, so a test against it sees the package as users get it.
 *
 * Only the parts of the registry's API that the Deno CLI uses are here:
 * package and version look-ups, the upload, and the files with their meta
 * documents (`meta.json`, `<version>_meta.json` with sha256 checksums).
 *
 * @module
 */

/** One published version: its files by path (`/mod.ts`) and its exports. */
interface PublishedVersion {
  files: Map<string, Uint8Array<ArrayBuffer>>;
  exports: Record<string, string>;
}

/** A running registry. */
export interface JsrRegistry extends AsyncDisposable {
  /** What `JSR_URL` must be for Deno to use it, with a trailing `/`. */
  readonly url: string;
  /** Published versions by `@scope/name`, then by version. */
  readonly packages: Map<string, Map<string, PublishedVersion>>;
  /** Stops serving. */
  close(): Promise<void>;
}

/**
 * Starts a registry on a free port of 127.0.0.1.
 *
 * @example
 * ```ts
 * import { startJsrRegistry } from "./registry.ts";
 * await using registry = await startJsrRegistry();
 * console.log(registry.url); // http://127.0.0.1:<port>/
 * ```
 */
export function startJsrRegistry(): Promise<JsrRegistry> {
  const packages = new Map<string, Map<string, PublishedVersion>>();
  const { promise: listening, resolve } = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => resolve(port),
  }, (request) => handle(request, packages));
  return listening.then((port) => ({
    url: `http://127.0.0.1:${port}/`,
    packages,
    close: () => server.shutdown(),
    [Symbol.asyncDispose]: () => server.shutdown(),
  }));
}

async function handle(
  request: Request,
  packages: Map<string, Map<string, PublishedVersion>>,
): Promise<Response> {
  const path = decodeURIComponent(new URL(request.url).pathname);
  const api = path.match(
    /^\/api\/scopes\/([^/]+)(?:\/packages\/([^/]+)(?:\/versions\/([^/]+))?)?$/,
  );
  if (api) {
    const [, scope, name, version] = api;
    const id = `@${scope}/${name}`;
    if (request.method === "POST" && name && version) {
      const config = new URL(request.url).searchParams.get("config") ??
        "/deno.json";
      const files = await untar(await gunzip(request));
      const exports = readExports(files.get(config));
      if (!packages.has(id)) packages.set(id, new Map());
      packages.get(id)!.set(version, { files, exports });
      return Response.json({ id: crypto.randomUUID(), status: "success" });
    }
    // Every scope and package exists; a version exists once published.
    if (version && !packages.get(id)?.has(version)) {
      return apiError(404, "packageVersionNotFound", `${id}@${version}`);
    }
    return Response.json({ scope, name });
  }
  const file = path.match(/^\/(@[^/]+\/[^/]+)\/(.+)$/);
  if (!file || request.method !== "GET") return notFound(path);
  const [, id, rest] = file;
  const versions = packages.get(id);
  if (!versions) return notFound(path);
  if (rest === "meta.json") {
    const all = [...versions.keys()];
    return Response.json({
      scope: id.slice(1).split("/")[0],
      name: id.split("/")[1],
      latest: all.at(-1),
      versions: Object.fromEntries(all.map((v) => [v, {}])),
    });
  }
  const meta = rest.match(/^([^/]+)_meta\.json$/);
  if (meta) {
    const published = versions.get(meta[1]);
    if (!published) return notFound(path);
    return Response.json({
      manifest: Object.fromEntries(
        await Promise.all(
          [...published.files].map(async ([name, bytes]) => [name, {
            size: bytes.length,
            checksum: `sha256-${await sha256(bytes)}`,
          }]),
        ),
      ),
      exports: published.exports,
    });
  }
  const slash = rest.indexOf("/");
  const published = versions.get(rest.slice(0, slash));
  const bytes = published?.files.get(rest.slice(slash));
  if (!bytes) return notFound(path);
  return new Response(bytes, {
    headers: { "content-type": contentType(rest) },
  });
}

function readExports(config: Uint8Array | undefined): Record<string, string> {
  if (!config) return {};
  const { exports } = JSON.parse(new TextDecoder().decode(config));
  return typeof exports === "string" ? { ".": exports } : exports ?? {};
}

function contentType(path: string): string {
  if (/\.(ts|mts|tsx)$/.test(path)) return "application/typescript";
  if (/\.(js|mjs)$/.test(path)) return "application/javascript";
  if (path.endsWith(".json")) return "application/json";
  return "application/octet-stream";
}

function apiError(status: number, code: string, message: string): Response {
  return Response.json({ code, message }, { status });
}

function notFound(path: string): Response {
  return apiError(404, "notFound", `nothing at ${path}`);
}

async function gunzip(request: Request): Promise<Uint8Array<ArrayBuffer>> {
  const body = request.body!.pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(body).arrayBuffer());
}

/** Regular files of a ustar archive, by path from its root (`/mod.ts`). */
function untar(
  archive: Uint8Array<ArrayBuffer>,
): Map<string, Uint8Array<ArrayBuffer>> {
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  const text = new TextDecoder();
  const field = (at: number, length: number) =>
    text.decode(archive.subarray(at, at + length)).replace(/\0.*$/s, "");
  let at = 0;
  let longName: string | undefined;
  while (at + 512 <= archive.length && archive[at] !== 0) {
    const size = parseInt(field(at + 124, 12).trim() || "0", 8);
    const type = field(at + 156, 1) || "0";
    const prefix = field(at + 345, 155);
    const name = longName ?? (prefix ? `${prefix}/` : "") + field(at, 100);
    const body = archive.subarray(at + 512, at + 512 + size);
    longName = undefined;
    if (type === "L") longName = text.decode(body).replace(/\0.*$/s, "");
    else if (type === "0") files.set(`/${name.replace(/^\.?\//, "")}`, body);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}
