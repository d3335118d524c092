// One bundle, same results everywhere: test/conformance/run.ts runs against
// dist/index.js in Node (here), in Deno (`deno test test/deno/`, spawned) and
// in headless Chromium (page and Web Worker, driven with playwright-core over
// a loopback static server). Each writes {op/case: sha256} to
// test-output/conformance/<runtime>.json; all sets must be equal. A runtime
// that is absent is skipped with a logged reason, except under CI=true where
// its absence fails.

import { describe, it, expect, beforeAll } from "vitest";
import { existsSync, mkdirSync, writeFileSync, readFileSync, rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, FIXTURES, readMaybeGz } from "./helpers.js";
import { runConformance, sha256hex, KERNELS, MODULES, KOS, type ConformanceResult } from "./conformance/run.ts";
// @ts-ignore plain ESM helper shared with scripts/sizes.mjs
import { startStaticServer, findChromium, launchChromium } from "../scripts/static-server.mjs";

const DIST = join(ROOT, "dist/index.js");
const OUT = join(ROOT, "test-output/conformance");
const DENO = join(ROOT, "node_modules/.bin/deno");
const IN_CI = !!process.env.CI;

function save(name: string, r: ConformanceResult): void {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, `${name}.json`), JSON.stringify(r, null, 2) + "\n");
}

/** Keys whose hashes differ (or exist on one side only). */
function diff(a: ConformanceResult, b: ConformanceResult): string[] {
  const keys = new Set([...Object.keys(a.hashes), ...Object.keys(b.hashes)]);
  return [...keys].filter((k) => a.hashes[k] !== b.hashes[k]).map((k) => `${k}: ${a.runtime}=${a.hashes[k]?.slice(0, 12) ?? "missing"} (${a.sizes[k]} B) ${b.runtime}=${b.hashes[k]?.slice(0, 12) ?? "missing"} (${b.sizes[k]} B)`);
}

function denoAvailable(): string | null {
  if (!existsSync(DENO)) return `${DENO} not found (the deno dev dependency is not installed)`;
  const r = spawnSync(DENO, ["--version"], { encoding: "utf8" });
  return r.status === 0 ? null : `deno --version failed: ${r.stderr || r.error}`;
}

function run(cmd: string, args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("close", (code) => resolve({ code: code ?? -1, out }));
  });
}

let node: ConformanceResult;
const seen: ConformanceResult[] = [];
const missing: string[] = [];

describe("conformance across runtimes (one bundle: dist/index.js)", () => {
  beforeAll(async () => {
    if (!existsSync(DIST)) throw new Error("dist/index.js is missing: run `npm run build` first");
    const api = await import(pathToFileURL(DIST).href);
    node = await runConformance(api, async (rel) => new Uint8Array(readFileSync(join(FIXTURES, rel))), `node ${process.version}`);
    save("node", node);
    seen.push(node);
  });

  it("Node: hashes every registry operation on every fixture case", async () => {
    const cases = KERNELS.length * (1 + MODULES.length);
    expect(node.ops).toEqual(expect.arrayContaining(["parse", "raw", "json"]));
    expect(Object.keys(node.hashes).length).toBeGreaterThanOrEqual(cases * 3);
    // Anchor the hashes to known-good bytes: bpftool's raw text for the modules.
    let anchored = 0;
    for (const k of KERNELS) {
      for (const m of MODULES) {
        const golden = join(FIXTURES, `golden/raw/${k}/${m}.txt.gz`);
        if (!existsSync(golden)) continue;
        expect(node.hashes[`raw/${k}/${m}`], `raw/${k}/${m} vs bpftool golden`).toBe(await sha256hex(readMaybeGz(golden)));
        anchored++;
      }
    }
    expect(anchored).toBeGreaterThan(0);
    // And the distilled .ko to what the CLI writes (`btfkit distill X.ko --base V -o OUT.ko`).
    for (const [k, m] of KOS) {
      const key = `distill-ko/${k}/${m}.ko`;
      const dir = mkdtempSync(join(tmpdir(), "btfkit-conf-"));
      try {
        const out = join(dir, `${m}.distilled.ko`);
        const r = spawnSync(process.execPath, [join(ROOT, "dist/cli.js"), "distill", join(FIXTURES, `${k}/ko/${m}.ko.gz`), "--base", join(FIXTURES, `${k}/vmlinux.btf.gz`), "-o", out], { encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
        expect(node.hashes[key], `${key} vs the CLI's output`).toBe(await sha256hex(readFileSync(out)));
        anchored++;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    // CO-RE: the golden TSVs to libbpf's own answers (vendored), the JSON report to the CLI's --json.
    const libbpf: Record<string, string> = {
      "core-tsv/core/k1+mod_a+mod_b/prog.o": "core/expected/k1+mod_a+mod_b/prog.o.tsv",
      "core-tsv/core/k1/prog-tm.o": "core/expected/k1/prog-tm.o.tsv",
      "core-tsv/core/k61-50/biolatency.bpf.o": "core/corpus/biolatency.bpf.o.tsv",
    };
    for (const [key, rel] of Object.entries(libbpf)) {
      expect(node.hashes[key], `${key} vs libbpf's answer`).toBe(await sha256hex(readFileSync(join(FIXTURES, rel))));
      anchored++;
    }
    {
      const dir = mkdtempSync(join(tmpdir(), "btfkit-conf-"));
      try {
        const obj = join(dir, "biolatency.bpf.o");
        const kernel = join(FIXTURES, "k61-50/vmlinux.btf.gz");
        writeFileSync(obj, readMaybeGz(join(FIXTURES, "core/corpus/biolatency.bpf.o.gz")));
        const r = spawnSync(process.execPath, [join(ROOT, "dist/cli.js"), "core", obj, "--kernel", kernel, "--json"], { encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
        const text = r.stdout.split(JSON.stringify(kernel)).join('"k61-50"'); // the CLI names a kernel by its path
        expect(node.hashes["core/core/k61-50/biolatency.bpf.o"], "core JSON vs the CLI's --json").toBe(await sha256hex(new TextEncoder().encode(text)));
        anchored++;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    console.log(`conformance: node ran ops [${node.ops.join(", ")}], ${Object.keys(node.hashes).length} outputs hashed in ${node.ms} ms; ${anchored} outputs anchored (raw dumps equal bpftool's golden text, distilled .ko equal the CLI's file, CO-RE TSVs equal libbpf's answers, the CO-RE JSON equal the CLI's --json)`);
  });

  it("Deno: `deno test test/deno/` gives the same hashes", async () => {
    const why = denoAvailable();
    if (why) {
      if (IN_CI) throw new Error(`deno is required under CI: ${why}`);
      console.log(`conformance: SKIPPED deno: ${why}`);
      missing.push("deno");
      return;
    }
    rmSync(join(OUT, "deno.json"), { force: true });
    const r = await run(DENO, ["test", "-A", "--no-check", "test/deno/conformance.test.ts"], { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" });
    expect(r.code, r.out).toBe(0);
    const deno = JSON.parse(readFileSync(join(OUT, "deno.json"), "utf8")) as ConformanceResult;
    seen.push(deno);
    expect(deno.ops).toEqual(node.ops);
    expect(diff(node, deno)).toEqual([]);
    console.log(`conformance: ${deno.runtime}: ${Object.keys(deno.hashes).length} hashes, all equal to node's (${deno.ms} ms)`);
  }, 180_000);

  it("Chromium: page and Web Worker give the same hashes", async () => {
    const exe = await findChromium();
    if (!exe) {
      const why = "no Chromium at $CHROMIUM_PATH, /usr/bin/chromium or /usr/bin/chromium-browser (apt-get install chromium)";
      if (IN_CI) throw new Error(`chromium is required under CI: ${why}`);
      console.log(`conformance: SKIPPED chromium: ${why}`);
      missing.push("chromium");
      return;
    }
    const srv = await startStaticServer({ root: ROOT });
    const browser = await launchChromium(exe);
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e: Error) => errors.push(e.message));
      await page.goto(`${srv.url}/test/browser/conformance.html`);
      await page.waitForFunction(() => (globalThis as any).__conformance !== undefined, null, { timeout: 150_000 });
      const res = await page.evaluate(() => (globalThis as any).__conformance);
      expect(res.error, res.error).toBeUndefined();
      expect(errors).toEqual([]);
      const ua = await page.evaluate(() => navigator.userAgent);
      const version = /Chrome\/([\d.]+)/.exec(ua)?.[1] ?? "?";
      for (const [where, r] of [["page", res.page], ["worker", res.worker]] as const) {
        r.runtime = `chromium ${version} ${where}`;
        save(`chromium-${where}`, r);
        seen.push(r);
        expect(r.ops).toEqual(node.ops);
        expect(diff(node, r)).toEqual([]);
        console.log(`conformance: ${r.runtime}: ${Object.keys(r.hashes).length} hashes, all equal to node's (${r.ms} ms)`);
      }
    } finally {
      await browser.close();
      await srv.close();
    }
  }, 180_000);

  it("every runtime ran and agreed", () => {
    const runtimes = seen.map((r) => r.runtime);
    console.log(`conformance: ${Object.keys(node.hashes).length} outputs x ${seen.length} runs (${runtimes.join("; ")}) equal${missing.length ? `; skipped with reason: ${missing.join(", ")}` : ""}`);
    expect(seen.length).toBe(4 - (missing.includes("deno") ? 1 : 0) - (missing.includes("chromium") ? 2 : 0));
  });
});
