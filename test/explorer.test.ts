// The explorer (dist/web/, built by `rollup -c`) end to end in headless
// Chromium: open k61-50's vmlinux and a module, search as you type, open
// struct sk_buff (layout, raw record, referrers), check a module against
// k61-47, download a distilled .ko (compared with the Node API's bytes), and
// the same page from file://. The page is served under a strict
// Content-Security-Policy header (no eval, no inline script), and any
// violation or console error fails the test. Screenshots go to test-output/.
// Skipped with a logged reason when Chromium is absent, except under CI.

import { describe, it, expect } from "vitest";
import { existsSync, mkdirSync, readFileSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, FIXTURES, fixture, cli } from "./helpers.js";
import { init, loadBtf, distill, distillKo, relocate, readElf, elfBtfSections, BtfBuilder } from "../src/index.js";
// @ts-ignore plain ESM helper
import { startStaticServer, findChromium, launchChromium } from "../scripts/static-server.mjs";

const WEB = join(ROOT, "dist/web/index.html");
const OUT = join(ROOT, "test-output");
const IN_CI = !!process.env.CI;

/**
 * What a deployment would send: scripts only from the page's origin plus wasm
 * compilation, the worker from a blob: URL. No 'unsafe-eval': an eval or
 * new Function anywhere in the page or the worker is refused and reported.
 * img-src adds data: for the page's empty favicon (<link rel="icon" href="data:,">,
 * which stops the browser fetching /favicon.ico).
 */
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data:";

type Page = import("playwright-core").Page;

/** Watch a page for script errors, CSP violations and long main-thread tasks. */
async function instrument(page: Page): Promise<{ problems: string[]; workers(): number }> {
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  // The explorer's worker: its console errors and CSP violations (an eval there would be one).
  let workers = 0;
  page.on("worker", (w) => {
    workers++;
    w.on("console", (m) => { if (m.type() === "error") problems.push(`worker console: ${m.text()}`); });
    w.evaluate(() => self.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation in worker: ${(e as SecurityPolicyViolationEvent).violatedDirective}`))).catch(() => {});
  });
  await page.addInitScript(() => {
    const w = window as unknown as { __longTasks: [number, number][]; __phases: string[] };
    w.__longTasks = [];
    w.__phases = [];
    // Every text the progress bar shows, to see that it does.
    new MutationObserver(() => {
      const label = document.querySelector("#progress .label")?.textContent;
      if (label && w.__phases[w.__phases.length - 1] !== label) w.__phases.push(label);
    }).observe(document, { subtree: true, childList: true, characterData: true });
    document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
    try {
      new PerformanceObserver((list) => { for (const e of list.getEntries()) w.__longTasks.push([e.startTime, e.duration]); }).observe({ type: "longtask", buffered: true });
    } catch { /* no longtask support */ }
  });
  return { problems, workers: () => workers };
}

type FileArg = string | { name: string; mimeType: string; buffer: Buffer };

/** A fixture under another file name (both kernels' files are called vmlinux.btf.gz). */
function named(rel: string, name: string): FileArg {
  return { name, mimeType: "application/gzip", buffer: readFileSync(join(FIXTURES, rel)) };
}

/**
 * Open files and wait until `expectDocs` documents are open. Returns the
 * longest main-thread task while the worker read, parsed and indexed them
 * (tasks of the test harness handing the files over are not counted).
 */
async function openFiles(page: Page, files: FileArg[], expectDocs: number): Promise<number> {
  await page.setInputFiles("#file", files as never);
  // Long tasks are reported late; count those that started after the hand-over.
  const since = await page.evaluate(() => performance.now());
  await page.waitForFunction((n) => document.querySelectorAll("#doc option").length === n && document.getElementById("progress")!.hidden, expectDocs, { timeout: 90_000 });
  await page.waitForTimeout(100);
  const tasks = await page.evaluate(() => (window as unknown as { __longTasks: [number, number][] }).__longTasks);
  return Math.max(0, ...tasks.filter(([start]) => start >= since).map(([, d]) => d));
}

async function typeAndWait(page: Page, q: string, first: string): Promise<number> {
  const t0 = Date.now();
  await page.fill("#q", q);
  await page.waitForFunction((f) => document.querySelector("#results li a")?.firstChild?.textContent === f, first, { timeout: 10_000 });
  return Date.now() - t0;
}

describe("explorer bundle", () => {
  it("has a strict CSP and no eval, Function constructor or innerHTML", () => {
    if (!existsSync(WEB)) throw new Error("dist/web/index.html is missing: run `npm run build`");
    const html = readFileSync(WEB, "utf8");
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? "";
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).not.toMatch(/'unsafe-inline'|'unsafe-eval'/);
    expect(html).not.toMatch(/<script>|\son[a-z]+=/i);
    for (const f of ["dist/web/explorer.js", "dist/index.js", "dist/service.js"]) {
      const js = readFileSync(join(ROOT, f), "utf8");
      expect(js, f).not.toMatch(/\beval\(|new Function\b|\bFunction\(|innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    }
  });
});

describe("explorer in Chromium", () => {
  it("loads a kernel and a module, searches, opens struct sk_buff; screenshots", async () => {
    if (!existsSync(WEB)) throw new Error("dist/web/index.html is missing: run `npm run build` (rollup -c builds the explorer)");
    const exe = await findChromium();
    if (!exe) {
      const why = "no Chromium at $CHROMIUM_PATH, /usr/bin/chromium or /usr/bin/chromium-browser";
      if (IN_CI) throw new Error(`chromium is required under CI: ${why}`);
      console.log(`explorer: SKIPPED: ${why}`);
      return;
    }
    mkdirSync(OUT, { recursive: true });
    const srv = await startStaticServer({ root: ROOT, headers: { "content-security-policy": CSP } });
    const browser = await launchChromium(exe);
    try {
      // Negative control: under this policy the page's own scripts cannot eval
      // (DevTools' evaluate is exempt, hence a script file), and the listener
      // reports each refusal, so a quiet explorer below means none was tried.
      const control = await browser.context.newPage();
      const controlWatch = await instrument(control);
      await control.goto(`${srv.url}/__blank`);
      await control.addScriptTag({ url: "/test/browser/csp-probe.js" });
      const probe = await control.evaluate(() => (window as unknown as { __cspProbe: Record<string, string> }).__cspProbe);
      expect(probe).toEqual({ eval: "refused: EvalError", newFunction: "refused: EvalError" });
      await control.waitForTimeout(100);
      expect(controlWatch.problems.filter((p) => /CSP violation: script-src eval/.test(p)).length, controlWatch.problems.join("\n")).toBe(2);
      await control.close();

      const page = await browser.context.newPage();
      const { problems, workers } = await instrument(page);
      const resp = await page.goto(`${srv.url}/dist/web/index.html`);
      expect(resp?.headers()["content-security-policy"]).toBe(CSP);
      await page.waitForSelector("html[data-ready]", { timeout: 30_000 });
      expect(await page.isVisible("#welcome")).toBe(true);

      // A module alone cannot be read: it needs its kernel.
      await page.setInputFiles("#file", [join(FIXTURES, "k61-50/modules/veth.btf.gz")]);
      await page.waitForFunction(() => /open its kernel/.test(document.getElementById("status")!.textContent ?? ""), null, { timeout: 30_000 });

      const t0 = Date.now();
      const longest = [await openFiles(page, [named("k61-50/vmlinux.btf.gz", "vmlinux-k61-50.btf.gz")], 1)];
      const loadMs = Date.now() - t0;
      const status = (await page.textContent("#status")) ?? "";
      expect(status).toMatch(/100,642 types/);
      longest.push(await openFiles(page, [join(FIXTURES, "k61-50/modules/veth.btf.gz")], 2));
      expect(await page.textContent("#doc option:nth-child(2)")).toMatch(/veth.*module on vmlinux-k61-50/);
      longest.push(await openFiles(page, [named("k61-47/vmlinux.btf.gz", "vmlinux-k61-47.btf.gz")], 3));
      const phases = await page.evaluate(() => (window as unknown as { __phases: string[] }).__phases);
      for (const p of [/reading/, /decompressing|parsing/, /indexing names/, /indexing references/]) expect(phases.some((x) => p.test(x)), `${p} in ${phases}`).toBe(true);
      // The page must stay responsive while the worker parses and indexes 100k types.
      expect(Math.max(...longest), `longest main-thread task per load: ${longest}`).toBeLessThan(400);

      // The module: its tools panel lists the kernels; check runs only once it is in the registry.
      await page.selectOption("#doc", { index: 1 });
      await page.waitForSelector("#overview .tools h3");
      const caps = await page.evaluate(() => [...document.querySelectorAll(".tools .picks label")].map((l) => l.textContent!.trim()));
      expect(caps).toEqual(["vmlinux-k61-50.btf.gz", "vmlinux-k61-47.btf.gz"]);
      // Check k61-50's veth against k61-47 (the third document), as `btfkit check` would.
      expect(await page.isDisabled(".tools .buttons button.primary")).toBe(false);
      await page.click(".tools .buttons button.primary");
      await page.waitForSelector(".tools .report p.ok, .tools .report p.error", { timeout: 60_000 });
      const report = (await page.textContent(".tools .report")) ?? "";
      console.log(`explorer: check report: ${report}`);
      // veth relocates from 6.1.0-50 onto 6.1.0-47 (golden relocate has no .err for it).
      expect(await page.$(".tools .report p.ok")).not.toBeNull();
      // veth was opened as raw BTF: no .ko to rewrite, so no distilled .ko, and the page says why.
      expect(await page.isDisabled(".tools button.download")).toBe(true);
      expect(await page.textContent(".tools .dl-note")).toMatch(/raw BTF, not a \.ko/);
      await page.screenshot({ path: join(OUT, "explorer-check.png"), fullPage: false });
      console.log(`explorer: screenshot ${join(OUT, "explorer-check.png")}`);
      // Changes between the two kernels (btfkit diff), filtered, then struct device side by side.
      await page.selectOption("#doc", { index: 0 });
      await page.waitForSelector("#overview .changes h3");
      await page.selectOption("#overview .changes select.from", { label: "vmlinux-k61-47.btf.gz" });
      await page.click("#overview .changes button.primary");
      await page.waitForSelector("#overview .changes table.counts", { timeout: 60_000 });
      expect(await page.textContent("#overview .changes-out .meta")).toMatch(/17 added, 13 removed, 280 changed/);
      await page.fill("#overview .change-filter", "device");
      await page.selectOption("#overview .change-status", "changed");
      await page.waitForFunction(() => [...document.querySelectorAll(".change-list li")].every((li) => li.classList.contains("chg-changed")) && [...document.querySelectorAll(".change-list li > a:not(.cmp-link)")].some((a) => a.textContent === "device"));
      await page.click('.change-list li:has(> a:text-is("device")) a.cmp-link');
      await page.waitForFunction(() => /struct device/.test(document.querySelector("#type h2")?.textContent ?? ""));
      await page.waitForSelector("#type .compare-table", { timeout: 60_000 });
      expect(await page.textContent("#type .compare-out .meta")).toMatch(/size 744 → 752/);
      expect(await page.$$eval("#type .compare-table tr.chg-added td.mname", (tds) => tds.map((t) => t.textContent))).toContain("flags");
      await page.screenshot({ path: join(OUT, "explorer-compare.png") });
      console.log(`explorer: compare view ${join(OUT, "explorer-compare.png")}`);
      // Dropped (not picked): an xz-compressed module goes on the selected kernel, k61-50.
      await page.selectOption("#doc", { index: 0 });
      await page.evaluate(async () => {
        const bytes = await (await fetch("/test/fixtures/wrapped/loop.btf.xz")).arrayBuffer();
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], "loop.btf.xz"));
        window.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
      });
      await page.waitForFunction(() => document.querySelectorAll("#doc option").length === 4 && document.getElementById("progress")!.hidden, null, { timeout: 60_000 });
      expect(await page.textContent("#doc option:nth-child(4)")).toMatch(/loop\.btf\.xz.*module on vmlinux-k61-50/);
      expect(await page.textContent("#overview .facts")).toMatch(/xz → raw/);

      // A .ko on k61-50: download it distilled, as `btfkit distill tcp_bbr.ko --base vmlinux -o OUT.ko`.
      await page.selectOption("#doc", { index: 0 });
      await openFiles(page, [join(FIXTURES, "k61-50/ko/tcp_bbr.ko.gz")], 5);
      expect(await page.textContent("#doc option:nth-child(5)")).toMatch(/tcp_bbr\.ko\.gz.*module on vmlinux-k61-50/);
      expect(await page.isDisabled(".tools button.download")).toBe(false);
      const t1 = Date.now();
      const [download] = await Promise.all([page.waitForEvent("download", { timeout: 60_000 }), page.click(".tools button.download")]);
      expect(download.suggestedFilename()).toBe("tcp_bbr.distilled.ko");
      const saved = join(OUT, "tcp_bbr.distilled.ko");
      await download.saveAs(saved);
      const dlMs = Date.now() - t1;
      // The fixture is signed: the signature is dropped, and the page warns as the CLI does.
      await page.waitForSelector(".tools .dl-note.warning:not([hidden])");
      expect(await page.textContent(".tools .dl-note")).toMatch(/dropped the module signature/);
      expect(await page.textContent("#overview .facts")).toMatch(/gzip → elf \(\.BTF, \.BTF_ids\)/);
      await page.screenshot({ path: join(OUT, "explorer-distill-ko.png") });
      const got = new Uint8Array(readFileSync(saved));
      // The same bytes as the Node API, and the file does what a distilled module must.
      await init();
      const k50 = await loadBtf(fixture("k61-50/vmlinux.btf.gz"));
      const koIn = fixture("k61-50/ko/tcp_bbr.ko.gz");
      const mod = await loadBtf(koIn, { base: k50 });
      const expected = distillKo(koIn, mod);
      expect(expected.droppedSignature).toBe(true);
      expect(Buffer.from(got).equals(Buffer.from(expected.bytes)), "downloaded .ko == Node's distillKo").toBe(true);
      expect(elfBtfSections(got).btfBase, ".BTF.base in the downloaded .ko").toBeDefined();
      expect(readElf(got).signature).toBeUndefined();
      const alone = await loadBtf(got);
      expect(alone.source?.sections).toContain(".BTF.base");
      expect(alone.source?.distilledBase).toBeDefined();
      const relocated = await loadBtf(got, { base: k50 });
      expect(relocated.source?.relocated).toBe(true);
      const d = distill(mod);
      const ref = relocate(d.split, k50);
      expect(Buffer.from(relocated.toBytes()).equals(Buffer.from(ref.btf.toBytes())), "downloaded .ko relocated onto k61-50 == Node's distill+relocate").toBe(true);
      console.log(`explorer: downloaded ${saved} (${got.length} bytes, ${dlMs} ms click->file): equal to distillKo in Node; .BTF.base ${alone.source!.distilledBase!.typeCount - 1} types; relocated onto k61-50 equal to distill+relocate (${relocated.typeCount - relocated.startId} types)`);
      for (const b of [ref.btf, d.split, d.base, relocated, alone, alone.source!.distilledBase!, mod, k50]) b.free();
      // Opened again, the distilled .ko reads as a module of k61-50, and is not offered for distilling twice.
      await page.selectOption("#doc", { index: 0 });
      await openFiles(page, [saved], 6);
      expect(await page.textContent("#doc option:nth-child(6)")).toMatch(/tcp_bbr\.distilled\.ko.*module on vmlinux-k61-50/);
      expect(await page.isDisabled(".tools button.download")).toBe(true);
      expect(await page.textContent(".tools .dl-note")).toMatch(/\.BTF\.base already/);

      await page.selectOption("#doc", { index: 1 });
      await typeAndWait(page, "veth_rq", "veth_rq");
      await page.click("#results li:first-child a");
      await page.waitForFunction(() => /struct veth_rq/.test(document.querySelector("#type h2")?.textContent ?? ""));
      await page.screenshot({ path: join(OUT, "explorer-module.png") });

      // The kernel: search as you type.
      await page.selectOption("#doc", { index: 0 });
      const times: number[] = [];
      for (const q of ["s", "sk", "sk_", "sk_b", "sk_bu", "sk_buf"]) {
        const t = Date.now();
        await page.fill("#q", q);
        await page.waitForFunction((qq) => [...document.querySelectorAll("#results li a")].every((a) => (a.firstChild?.textContent ?? "").toLowerCase().includes(qq)) && document.querySelectorAll("#results li").length > 0, q);
        times.push(Date.now() - t);
      }
      times.push(await typeAndWait(page, "sk_buff", "sk_buff"));
      const reported = await page.textContent("#count");
      expect(reported).toMatch(/^\d+ match/);
      await page.selectOption("#kind", { label: "STRUCT" });
      await page.waitForFunction(() => [...document.querySelectorAll("#results .kind")].every((k) => k.textContent === "STRUCT"));

      // Open struct sk_buff.
      await page.click("#results li:first-child a");
      await page.waitForFunction(() => /struct sk_buff/.test(document.querySelector("#type h2")?.textContent ?? ""));
      const view = await page.evaluate(() => ({
        title: document.querySelector("#type h2")!.textContent,
        meta: document.querySelector("#type .meta")!.textContent,
        segments: document.querySelectorAll("#type .lseg.member").length,
        holes: document.querySelectorAll("#type .lseg.hole").length,
        raw: document.querySelector("#type pre.raw")!.textContent!,
        rawLinks: document.querySelectorAll("#type pre.raw a").length,
        refs: document.querySelectorAll("#type ul.refs li").length,
        refsHead: [...document.querySelectorAll("#type h3")].map((h) => h.textContent).find((t) => t!.startsWith("Used by")),
        c: document.querySelector("#type pre.c")?.textContent ?? document.querySelector("#type section:nth-last-of-type(2) .note")?.textContent,
      }));
      expect(view.meta).toMatch(/size 232 bytes/);
      expect(view.raw.startsWith("[923] STRUCT 'sk_buff' size=232 vlen=28")).toBe(true);
      expect(view.segments).toBeGreaterThanOrEqual(28);
      expect(view.rawLinks).toBeGreaterThanOrEqual(28);
      expect(view.refs).toBeGreaterThan(10);
      expect(view.c).toMatch(/^struct sk_buff \{$/m);
      await page.screenshot({ path: join(OUT, "explorer-sk_buff.png") });

      // Follow a referrer link and come back with the history.
      const refHref = await page.getAttribute("#type ul.refs li:first-child a", "href");
      const refId = new URLSearchParams(refHref!.slice(1)).get("t");
      await page.click("#type ul.refs li:first-child a");
      await page.waitForFunction((id) => document.querySelector("#type h2 .id")?.textContent === `#${id}`, refId);
      await page.goBack();
      await page.waitForFunction(() => document.querySelector("#type h2 .id")?.textContent === "#923");

      // The worker was watched too (console errors, CSP violations).
      expect(workers()).toBe(1);
      expect(problems).toEqual([]);
      console.log(`explorer: served with CSP "${CSP}": no violation or console error in the page or its worker; vmlinux: "${status}" (${loadMs} ms with the file hand-over); longest main-thread task while loading: ${longest.map((x) => x.toFixed(0)).join("/")} ms; keystroke->results ${times.join("/")} ms end to end through the test driver, last search in the worker: ${reported}; struct sk_buff: ${view.segments} member segments, ${view.holes} hole(s), ${view.refsHead}`);
      console.log(`explorer: progress bar showed ${phases.length} states, e.g. ${phases.slice(0, 4).map((x) => JSON.stringify(x)).join(", ")}`);
      console.log(`explorer: screenshots ${join(OUT, "explorer-sk_buff.png")} and ${join(OUT, "explorer-module.png")}`);

      // Names are data: a BTF whose names are the keys of Object.prototype, or
      // markup, is shown as text and changes no prototype (page and worker keep
      // names in Maps and strings; the DOM is built with textContent).
      await init();
      const hostile = new BtfBuilder();
      const int = hostile.addInt("int", 4, 1);
      const proto = hostile.addStruct("__proto__", 12);
      hostile.addMember("__proto__", int, 0);
      hostile.addMember("constructor", int, 32);
      hostile.addMember("<img src=x onerror=alert(1)>", int, 64);
      const e = hostile.addEnum("prototype");
      hostile.addEnumValue("__proto__", 1);
      hostile.addEnumValue("hasOwnProperty", 2);
      hostile.addTypedef("constructor", proto);
      hostile.addTypedef("toString", e);
      const hostileBtf = hostile.finish();
      const hostileBytes = [...hostileBtf.toBytes()];
      hostileBtf.free();
      const hp = await browser.context.newPage();
      const hostileWatch = await instrument(hp);
      await hp.goto(`${srv.url}/dist/web/index.html`);
      await hp.waitForSelector("html[data-ready]", { timeout: 30_000 });
      const protoKeys = await hp.evaluate(() => Object.getOwnPropertyNames(Object.prototype).sort().join(","));
      await hp.evaluate((bytes) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], "__proto__.btf"));
        window.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, hostileBytes);
      await hp.waitForFunction(() => document.querySelectorAll("#doc option").length === 1 && document.getElementById("progress")!.hidden, null, { timeout: 30_000 });
      await typeAndWait(hp, "__proto__", "__proto__");
      await hp.click("#results li:first-child a");
      await hp.waitForFunction(() => /struct __proto__/.test(document.querySelector("#type h2")?.textContent ?? ""));
      const shown = await hp.evaluate(() => [...document.querySelectorAll("#type td.mname")].map((t) => t.textContent));
      expect(shown).toEqual(["__proto__", "constructor", "<img src=x onerror=alert(1)>"]);
      await typeAndWait(hp, "constructor", "constructor");
      await hp.fill("#q", "");
      await hp.waitForFunction(() => document.querySelectorAll("#results li").length === 5);
      const after = await hp.evaluate(() => ({
        keys: Object.getOwnPropertyNames(Object.prototype).sort().join(","),
        plain: Object.getPrototypeOf({}) === Object.prototype && typeof ({} as Record<string, unknown>).toString === "function",
        imgs: document.querySelectorAll("img").length,
      }));
      expect(after).toEqual({ keys: protoKeys, plain: true, imgs: 0 });
      expect(hostileWatch.problems).toEqual([]);
      await hp.close();
      console.log("explorer: a BTF named __proto__/constructor/markup is shown as text; Object.prototype unchanged, no element injected");

      // The same page from file://: classic script, worker from a blob: URL.
      const filePage = await browser.context.newPage();
      const fileWatch = await instrument(filePage);
      await filePage.goto(pathToFileURL(WEB).href);
      await filePage.waitForSelector("html[data-ready]", { timeout: 30_000 });
      await openFiles(filePage, [join(FIXTURES, "k61-47/vmlinux.btf.gz"), join(FIXTURES, "k61-47/modules/loop.btf.gz")], 2);
      await typeAndWait(filePage, "loop_device", "loop_device");
      await filePage.click("#results li:first-child a");
      await filePage.waitForFunction(() => /loop_device/.test(document.querySelector("#type h2")?.textContent ?? ""));
      await filePage.screenshot({ path: join(OUT, "explorer-file-url.png") });
      expect(fileWatch.problems).toEqual([]);
      console.log(`explorer: from file:// too: ${join(OUT, "explorer-file-url.png")}`);
    } finally {
      await browser.close();
      await srv.close();
    }
  }, 300_000);

  it("opens a .bpf.o next to kernels: relocations per section on each kernel, failures first, linked to the target types", async () => {
    if (!existsSync(WEB)) throw new Error("dist/web/index.html is missing: run `npm run build`");
    const exe = await findChromium();
    if (!exe) {
      if (IN_CI) throw new Error("chromium is required under CI");
      console.log("explorer core: SKIPPED: no Chromium");
      return;
    }
    // What the CLI answers for the same files: k1 as a /sys/kernel/btf folder (vmlinux + mod_a + mod_b), and k2.
    const dir = mkdtempSync(join(tmpdir(), "btfkit-explorer-core-"));
    mkdirSync(join(dir, "k1"));
    writeFileSync(join(dir, "k1/vmlinux"), fixture("core/kernels/k1.btf.gz"));
    writeFileSync(join(dir, "k1/mod_a"), fixture("core/kernels/mod_a.btf.gz"));
    writeFileSync(join(dir, "k1/mod_b"), fixture("core/kernels/mod_b.btf.gz"));
    writeFileSync(join(dir, "k2.btf"), fixture("core/kernels/k2.btf.gz"));
    writeFileSync(join(dir, "prog.o"), fixture("core/objs/prog.o.gz"));
    const c = cli(["core", join(dir, "prog.o"), "--kernel", join(dir, "k1"), "--kernel", join(dir, "k2.btf"), "--json"]);
    rmSync(dir, { recursive: true, force: true });
    type R = { kernel: string; sections: Array<{ name: string; records: number; poisoned: number; errors: number }>; records: Array<{ status: string; patch: string | null }> };
    const want = (JSON.parse(c.stdout.toString()) as { results: R[] }).results;
    expect(want.length).toBe(2);

    mkdirSync(OUT, { recursive: true });
    const srv = await startStaticServer({ root: ROOT, headers: { "content-security-policy": CSP } });
    const browser = await launchChromium(exe);
    try {
      const page = await browser.context.newPage();
      await page.setViewportSize({ width: 1400, height: 1000 });
      const { problems } = await instrument(page);
      await page.goto(`${srv.url}/dist/web/index.html`);
      await page.waitForSelector("html[data-ready]", { timeout: 30_000 });
      await openFiles(page, [named("core/kernels/k1.btf.gz", "k1.btf.gz")], 1);
      await openFiles(page, [named("core/kernels/mod_a.btf.gz", "mod_a.btf.gz"), named("core/kernels/mod_b.btf.gz", "mod_b.btf.gz")], 3);
      await openFiles(page, [named("core/kernels/k2.btf.gz", "k2.btf.gz")], 4);
      await openFiles(page, [named("core/objs/prog.o.gz", "prog.o.gz")], 5);
      expect(await page.textContent("#doc option:checked")).toMatch(/prog\.o\.gz — BPF object, \d+ CO-RE relocations/);
      // The panel resolves on every open kernel as soon as the object is selected.
      await page.waitForFunction(() => document.querySelectorAll(".core-result").length === 2, null, { timeout: 30_000 });
      const shown = await page.evaluate(() => [...document.querySelectorAll(".core-result")].map((r) => ({
        head: r.querySelector("h4")!.textContent!,
        secs: [...r.querySelectorAll(".core-secs li")].map((li) => li.textContent!),
        rows: [...r.querySelectorAll("tbody tr")].map((tr) => tr.className),
      })));
      let rows = 0;
      for (let i = 0; i < 2; i++) {
        const w = want[i];
        const s = shown[i];
        const errors = w.records.filter((x) => x.status === "error" || x.patch === "error").length;
        const poisoned = w.records.filter((x) => x.status !== "error" && x.patch === "poison").length;
        expect(s.rows.length, `rows on ${w.kernel}`).toBe(w.records.length);
        expect(s.rows.filter((x) => x === "core-error").length).toBe(errors);
        expect(s.rows.filter((x) => x === "core-poisoned").length).toBe(poisoned);
        // Failures first: every error before every poisoned record, those before the rest.
        const rank = s.rows.map((x) => (x === "core-error" ? 0 : x === "core-poisoned" ? 1 : 2));
        expect(rank).toEqual([...rank].sort((a, b) => a - b));
        expect(s.secs.length).toBe(w.sections.length);
        w.sections.forEach((sec, j) => expect(s.secs[j]).toMatch(new RegExp(`^${sec.name.replace(/[/.]/g, "\\$&")}: ${sec.records} relocations?, ${sec.errors ? `refused \\(${sec.errors} failing\\)` : sec.poisoned ? `loads, ${sec.poisoned} poisoned` : "loads"}$`)));
        expect(s.head).toMatch(w.records.some((x) => x.status === "error") ? /refused/ : /loads/);
        rows += s.rows.length;
      }
      expect(shown[0].head).toMatch(/^prog\.o\.gz on k1\.btf\.gz: /);
      // A record resolved in a module links to that module's type.
      const link = page.locator(".core-result").first().locator("td a", { hasText: /^mod_[ab] \[/ }).first();
      const text = (await link.textContent())!;
      await page.screenshot({ path: join(OUT, "explorer-core.png") });
      await link.click();
      await page.waitForFunction(() => !document.getElementById("type")!.hidden && /#\d+/.test(document.querySelector("#type h2 .id")?.textContent ?? ""));
      const opened = await page.evaluate(() => ({ doc: (document.getElementById("doc") as HTMLSelectElement).selectedOptions[0].textContent, id: document.querySelector("#type h2 .id")!.textContent }));
      expect(opened.doc).toMatch(new RegExp(`^${text.slice(0, 5)}\\.btf\\.gz — module on k1`));
      expect(opened.id).toBe(`#${/\[(\d+)\]/.exec(text)![1]}`);
      expect(problems).toEqual([]);
      console.log(`explorer core: prog.o on k1 (+mod_a, mod_b) and k2: ${rows} relocation rows equal the CLI's counts per kernel and section, failures first; ${text} opens ${opened.doc} ${opened.id}; screenshot ${join(OUT, "explorer-core.png")}`);
    } finally {
      await browser.close();
      await srv.close();
    }
  }, 120_000);
});
