// A static file server on 127.0.0.1 for the browser tests and scripts/sizes.mjs:
// serves the worktree (dist/, test/fixtures/, test/browser/ ...) and
// transpiles .ts files to JavaScript on the fly (type-only, no bundling), so
// the test pages import the real dist/index.js and the runtime-neutral test
// modules unchanged. Only paths inside `root` are served; nothing listens
// beyond loopback.
//
//   const srv = await startStaticServer({ root }); ... srv.url ... await srv.close();

import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { resolve, sep, extname } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".ts": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

let ts = null;
async function transpile(source, fileName) {
  ts ??= (await import("typescript")).default;
  return ts.transpileModule(source, {
    fileName,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, verbatimModuleSyntax: false, sourceMap: false },
  }).outputText;
}

/**
 * @param {{ root: string, port?: number, headers?: Record<string,string> }} opts
 * @returns {Promise<{ url: string, port: number, close(): Promise<void>, requests: string[] }>}
 */
export async function startStaticServer(opts) {
  const root = resolve(opts.root);
  const requests = [];
  const server = createServer(async (req, res) => {
    try {
      const u = new URL(req.url ?? "/", "http://127.0.0.1");
      requests.push(u.pathname);
      if (u.pathname === "/__blank") {
        // An empty page of this origin, to import modules from in page.evaluate.
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", ...(opts.headers ?? {}) }).end("<!doctype html><title>blank</title><link rel=\"icon\" href=\"data:,\">");
        return;
      }
      const path = resolve(root, "." + decodeURIComponent(u.pathname));
      if (path !== root && !path.startsWith(root + sep)) {
        res.writeHead(403).end();
        return;
      }
      let file = path;
      const st = await stat(file).catch(() => null);
      if (st?.isDirectory()) file = resolve(file, "index.html");
      const ext = extname(file);
      let body = await readFile(file);
      if (ext === ".ts") body = Buffer.from(await transpile(body.toString("utf8"), file));
      res.writeHead(200, {
        "content-type": TYPES[ext] ?? "application/octet-stream",
        "cache-control": "no-store",
        ...(opts.headers ?? {}),
      });
      res.end(body);
    } catch (e) {
      res.writeHead(e && e.code === "ENOENT" ? 404 : 500, { "content-type": "text/plain" });
      res.end(String(e && e.message));
    }
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(opts.port ?? 0, "127.0.0.1", ok);
  });
  const port = server.address().port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () => new Promise((ok) => { server.closeAllConnections?.(); server.close(() => ok()); }),
  };
}

/** The flags Debian's Chromium needs here (no network, no sandbox as root). */
export const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

/** The Chromium binary to drive, or null: $CHROMIUM_PATH, then Debian's path. */
export async function findChromium() {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter(Boolean);
  for (const c of candidates) {
    const st = await stat(c).catch(() => null);
    if (st?.isFile()) return c;
  }
  return null;
}

/**
 * Launch headless Chromium with a fresh profile directory (removed on close).
 * @returns {Promise<{ context: import("playwright-core").BrowserContext, close(): Promise<void> }>}
 */
export async function launchChromium(executablePath) {
  const { chromium } = await import("playwright-core");
  const { mkdtemp, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const profile = await mkdtemp(join(tmpdir(), "btfkit-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true }).catch(() => {});
    },
  };
}

// `node scripts/static-server.mjs [ROOT] [PORT]`: serve a folder on 127.0.0.1,
// e.g. the built explorer: node scripts/static-server.mjs dist/web 8080
if (import.meta.url === (await import("node:url")).pathToFileURL(process.argv[1] ?? "").href) {
  const srv = await startStaticServer({ root: process.argv[2] ?? ".", port: Number(process.argv[3] ?? 0) });
  console.log(`serving ${resolve(process.argv[2] ?? ".")} at ${srv.url}/`);
}
