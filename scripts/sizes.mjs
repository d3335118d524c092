#!/usr/bin/env node
// Bundle and wasm sizes (raw and gzip -9), and the core's cold start
// (WebAssembly compile + instantiate, as measured by init()/coldStart() in
// the bundle) in Node, Deno and headless Chromium, each in fresh processes
// or pages; for Chromium also the explorer's (dist/web/index.html) time from
// navigation to a ready worker (page script, blob: worker start, the worker's
// wasm compile and first answer). Run after `npm run build`:
//
//   node scripts/sizes.mjs [--runs N] [--json]
//
// A runtime that is absent is reported as such, not guessed.

import { readFileSync, existsSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { spawnSync } from "node:child_process";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startStaticServer, findChromium, launchChromium } from "./static-server.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf("--runs") + 1]) > 0 && args.includes("--runs") ? Number(args[args.indexOf("--runs") + 1]) : 7;
const asJson = args.includes("--json");

function sizeOf(rel) {
  const p = join(ROOT, rel);
  if (!existsSync(p)) return null;
  const b = readFileSync(p);
  return { file: rel, raw: b.length, gzip: gzipSync(b, { level: 9 }).length };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? (s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN; };
const stats = (xs) => ({ runs: xs.length, median: +median(xs).toFixed(2), min: +Math.min(...xs).toFixed(2), max: +Math.max(...xs).toFixed(2) });

const DIST = pathToFileURL(join(ROOT, "dist/index.js")).href;

function nodeColdStarts() {
  const out = [];
  const src = `const m = await import(${JSON.stringify(DIST)}); await m.init(); process.stdout.write(String(m.coldStart()));`;
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", src], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`node run failed: ${r.stderr}`);
    out.push(Number(r.stdout));
  }
  return { runtime: `node ${process.version}`, ...stats(out) };
}

function denoColdStarts() {
  const deno = join(ROOT, "node_modules/.bin/deno");
  if (!existsSync(deno)) return { runtime: "deno", absent: "node_modules/.bin/deno not found" };
  const version = spawnSync(deno, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0].replace(/ \(.*$/, "");
  const src = `const m = await import(${JSON.stringify(DIST)}); await m.init(); console.log(m.coldStart());`;
  const out = [];
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync(deno, ["eval", src], { encoding: "utf8", env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" } });
    if (r.status !== 0) throw new Error(`deno run failed: ${r.stderr}`);
    out.push(Number(r.stdout.trim()));
  }
  return { runtime: version, ...stats(out) };
}

async function chromiumColdStarts() {
  const exe = await findChromium();
  if (!exe) {
    const absent = "no Chromium at $CHROMIUM_PATH or /usr/bin/chromium";
    return [{ runtime: "chromium", absent }, { runtime: "chromium explorer", absent }];
  }
  const srv = await startStaticServer({ root: ROOT });
  const browser = await launchChromium(exe);
  try {
    const out = [];
    let ua = "";
    for (let i = 0; i < RUNS; i++) {
      const page = await browser.context.newPage();
      await page.goto(`${srv.url}/__blank`);
      // A fresh page: import the bundle and time init() there.
      const ms = await page.evaluate(async (url) => {
        const m = await import(url);
        await m.init();
        return m.coldStart();
      }, `${srv.url}/dist/index.js?fresh=${i}`);
      ua = await page.evaluate(() => navigator.userAgent);
      out.push(ms);
      await page.close();
    }
    const explorer = [];
    const web = existsSync(join(ROOT, "dist/web/index.html"));
    for (let i = 0; web && i < RUNS; i++) {
      const page = await browser.context.newPage();
      await page.goto(`${srv.url}/dist/web/index.html?fresh=${i}`);
      await page.waitForSelector("html[data-ready]", { timeout: 30_000 });
      explorer.push(Number(await page.getAttribute("html", "data-ready-ms")));
      await page.close();
    }
    const version = /Chrome\/([\d.]+)/.exec(ua)?.[1] ?? "?";
    return [
      { runtime: `chromium ${version}`, ...stats(out) },
      web ? { runtime: "chromium explorer", measure: "navigation to worker ready", ...stats(explorer) } : { runtime: "chromium explorer", absent: "dist/web/index.html not built" },
    ];
  } finally {
    await browser.close();
    await srv.close();
  }
}

const sizes = ["dist/index.js", "build/btfkit.wasm", "dist/cli.js", "dist/service.js", "dist/web/explorer.js"].map(sizeOf).filter(Boolean);
if (!sizes.find((s) => s.file === "dist/index.js")) {
  console.error("sizes: dist/index.js is missing: run `npm run build` first");
  process.exit(2);
}
const cold = [nodeColdStarts(), denoColdStarts(), ...(await chromiumColdStarts())];

if (asJson) {
  console.log(JSON.stringify({ sizes, coldStartMs: cold }, null, 2));
} else {
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log("size (raw / gzip -9)");
  for (const s of sizes) console.log(`  ${s.file.padEnd(22)} ${kb(s.raw).padStart(10)} / ${kb(s.gzip).padStart(9)}`);
  console.log(`cold start: WebAssembly compile + instantiate in init(), ${RUNS} fresh runs each (ms); "explorer": navigation to a ready worker`);
  for (const c of cold) {
    if (c.absent) console.log(`  ${c.runtime.padEnd(22)} absent: ${c.absent}`);
    else console.log(`  ${c.runtime.padEnd(22)} median ${c.median.toFixed(2).padStart(7)}  min ${c.min.toFixed(2).padStart(7)}  max ${c.max.toFixed(2).padStart(7)}`);
  }
}
