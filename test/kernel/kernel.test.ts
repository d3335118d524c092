// Issue #8: proof in a real kernel. Modules from Debian's 6.12.95 cloud kernel
// (bookworm-backports) are distilled by the CLI against that kernel's BTF and
// booted, under qemu, on 6.12.117 (trixie): each must load, publish
// /sys/kernel/btf/<module>, byte-identical to `btfkit relocate` onto
// 6.12.117, and tcp_bbr (which has .BTF_ids) must initialise. A second boot
// loads the same modules undistilled: their BTF is dropped or wrong, and
// `btfkit check` must have predicted which. Modules built for another Debian
// ABI are loaded as `modprobe --force` does (see loader.c). Runs when
// qemu-system-x86_64, gcc and dpkg-deb are present and the packages are
// cached or downloadable; BTFKIT_KERNEL_TEST=require (.ci/run) turns a missing
// prerequisite into a failure.

import { describe, it, expect, beforeAll } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, cli, equalBytes, firstDiff } from "../helpers.js";
import { init } from "../../src/index.js";
import { unwrap } from "../../src/input.js";
import { elfBtfSections } from "../../src/elf.js";
import {
  OLD, NEW, MODULES, CACHE, which, cacheWarm, ensureCache, buildLoader, buildInitramfs, boot, kernelDir, readBytes, parseConsole, BootResult,
} from "./harness.js";

const REQUIRE = process.env.BTFKIT_KERNEL_TEST === "require";
const missingTools = ["qemu-system-x86_64", "gcc", "dpkg-deb"].filter((t) => !which(t));
if (!existsSync(CLI)) missingTools.push("dist/cli.js (npm run build)");
if (!cacheWarm() && !which("apt-get")) missingTools.push(`apt-get (the cache ${CACHE} is cold)`);

/** The CLI, failing loudly. */
function btfkit(args: string[]): string {
  const r = cli(args);
  if (r.code !== 0) throw new Error(`btfkit ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout.toString();
}

interface CheckJson {
  results: Array<{ module: string; kernel: string; ok: boolean; problems: unknown[]; plain?: { verdict: string; detail: string } }>;
}

function checkJson(mods: string[], args: string[]): Map<string, CheckJson["results"][number]> {
  const r = cli(["check", ...mods, ...args, "--json"]);
  if (r.code !== 0 && r.code !== 1) throw new Error(`btfkit check exited ${r.code}: ${r.stderr}`);
  const j = JSON.parse(r.stdout.toString()) as CheckJson;
  return new Map(j.results.map((x) => [x.module, x]));
}

/** The taint letters /proc/sys/kernel/tainted encodes that this test causes: F forced load, E unsigned module. */
function taintText(t: number): string {
  const letters = [[2, "F"], [8192, "E"]].filter(([bit]) => t & (bit as number)).map(([, l]) => l).join("");
  return `${t}${letters ? ` (${letters})` : ""}`;
}

/** What the kernel logged while /init loaded the modules (its lines after "Run /init", minus init's argv and environment). */
function afterInit(dmesg: string): string {
  const l = dmesg.split("\n").map((x) => x.replace(/^\[[ \d.]+\] ?/, ""));
  const at = l.findIndex((x) => x.startsWith("Run /init"));
  return l.slice(at + 1).filter((x) => x && !/^\s|^with (arguments|environment):/.test(x)).join(" | ");
}

function bootLine(name: string, b: BootResult): string {
  return `boot ${name}: ${b.ok ? "ok" : "FAILED"} after ${b.attempts.length} attempt(s), wall ${b.attempts.map((a) => (a.ms / 1000).toFixed(1) + " s" + (a.why ? ` (${a.why})` : "")).join(", ")}`;
}

describe("real kernel (qemu): distilled modules load with their BTF relocated", () => {
  beforeAll(async () => { await init(); });

  it("reads a serial console transcript (CRLF, firmware output on the first line)", () => {
    const blob = Uint8Array.from([0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0xff]);
    const b64 = Buffer.from(blob).toString("base64");
    const text = `SeaBIOS\r\n\x1b[2J@@BOOTED ${NEW}\r\n@@LOAD /m/dummy.ko 0\r\n@@LOAD /m/tcp_bbr-stale-ids.ko 22\r\n` +
      `@@BTF dummy BEGIN\r\n${b64.slice(0, 4)}\r\n${b64.slice(4)}\r\n@@BTF dummy END\r\n@@NOBTF veth\r\n@@CC reno cubic bbr\r\n` +
      `@@TAINT 8194\r\n@@DMESG BEGIN\r\n[    3.4] Run /init as init process\r\n[    3.5] dummy: loaded\r\n@@DMESG END\r\n@@DONE\r\n`;
    const p = parseConsole(text);
    expect(p.release).toBe(NEW);
    expect([...p.loads]).toEqual([["dummy", 0], ["tcp_bbr-stale-ids", 22]]);
    expect(equalBytes(p.btf.get("dummy")!, blob)).toBe(true);
    expect([...p.noBtf]).toEqual(["veth"]);
    expect([p.congestion, p.taint, taintText(p.taint)]).toEqual(["reno cubic bbr", 8194, "8194 (FE)"]);
    expect(afterInit(p.dmesg)).toBe("dummy: loaded");
  });
  it("6.12.95 modules, distilled by the CLI, on 6.12.117; undistilled ones as check predicts", async (ctx) => {
    if (missingTools.length) {
      const msg = `kernel test: missing ${missingTools.join(", ")}`;
      if (REQUIRE) throw new Error(`${msg} (BTFKIT_KERNEL_TEST=require)`);
      console.log(`${msg}: SKIPPED`);
      ctx.skip(msg);
      return;
    }
    const t0 = Date.now();
    let setup: string[];
    try {
      setup = ensureCache();
    } catch (e) {
      const msg = `kernel test: cannot fetch the kernel packages (${(e as Error).message.split("\n")[0]})`;
      if (REQUIRE) throw e;
      console.log(`${msg}: SKIPPED`);
      ctx.skip(msg);
      return;
    }
    const work = mkdtempSync(join(tmpdir(), "btfkit-kernel-"));
    const keep = !!process.env.BTFKIT_KERNEL_KEEP;
    try {
      for (const d of ["plain", "dist", "reloc", "own"]) mkdirSync(join(work, d));
      // 1-2. The kernels' BTF out of their bzImages, and the modules.
      const oldBtf = join(work, "vmlinux-old.btf"), newBtf = join(work, "vmlinux-new.btf");
      btfkit(["convert", join(kernelDir(OLD), "vmlinuz"), "-o", oldBtf]);
      btfkit(["convert", join(kernelDir(NEW), "vmlinuz"), "-o", newBtf]);
      const plainMods = new Map<string, Uint8Array>();
      const distMods = new Map<string, Uint8Array>();
      const remapped = new Map<string, string>();
      for (const [n] of MODULES) {
        const xz = join(kernelDir(OLD), "modules", `${n}.ko.xz`);
        // finit_module takes the uncompressed ELF (without MODULE_INIT_COMPRESSED_FILE).
        const plain = (await unwrap(readBytes(xz))).bytes;
        writeFileSync(join(work, "plain", `${n}.ko`), plain);
        plainMods.set(n, plain);
        const s = elfBtfSections(plain).btf;
        writeFileSync(join(work, "own", `${n}.btf`), plain.subarray(s.offset, s.offset + s.size));
        // The CLI reads the compressed module itself.
        const r = cli(["distill", xz, "--base", oldBtf, "-o", join(work, "dist", `${n}.ko`)]);
        if (r.code !== 0) throw new Error(`btfkit distill ${n}: exit ${r.code}: ${r.stderr}`);
        remapped.set(n, r.stderr.match(/remapped (\d+) ids/)?.[1] ?? "0");
        distMods.set(n, readBytes(join(work, "dist", `${n}.ko`)));
        btfkit(["relocate", join(work, "dist", `${n}.ko`), "--base", newBtf, "-o", join(work, "reloc", `${n}.btf`)]);
      }
      // Negative case for .BTF_ids: the distilled tcp_bbr with its original (stale) ids put back.
      const bbrPlain = plainMods.get("tcp_bbr")!, bbrDist = distMods.get("tcp_bbr")!;
      const idsP = elfBtfSections(bbrPlain).btfIds!, idsD = elfBtfSections(bbrDist).btfIds!;
      expect(idsD.size).toBe(idsP.size);
      const staleIds = bbrDist.slice();
      staleIds.set(bbrPlain.subarray(idsP.offset, idsP.offset + idsP.size), idsD.offset);
      expect(equalBytes(staleIds, bbrDist), "remapping changed no .BTF_ids byte").toBe(false);
      const distCheck = checkJson(MODULES.map(([n]) => join(work, "dist", `${n}.ko`)), ["--kernel", newBtf]);
      const plainCheck = checkJson(MODULES.map(([n]) => join(work, "plain", `${n}.ko`)), ["--kernel", newBtf, "--built-against", oldBtf]);
      const prepMs = Date.now() - t0;

      // 3-4. Two boots of the newer kernel: the distilled set, then the plain set.
      const busybox = readBytes(join(CACHE, "busybox"));
      const loader = readBytes(buildLoader(work));
      const names = MODULES.map(([n]) => n);
      writeFileSync(join(work, "dist.cpio"), buildInitramfs(busybox, loader, distMods, names));
      // The stale-ids tcp_bbr goes first: it must fail, which leaves the name free for the plain one.
      const plainFiles = new Map([["tcp_bbr-stale-ids", staleIds], ...plainMods]);
      writeFileSync(join(work, "plain.cpio"), buildInitramfs(busybox, loader, plainFiles, names));
      const vmlinuz = join(kernelDir(NEW), "vmlinuz");
      const bootD = boot(vmlinuz, join(work, "dist.cpio"));
      const bootP = boot(vmlinuz, join(work, "plain.cpio"));
      writeFileSync(join(work, "console-dist.txt"), bootD.console);
      writeFileSync(join(work, "console-plain.txt"), bootP.console);

      // 5. The table first (it is the evidence), then the assertions.
      const lines: string[] = [];
      lines.push(`kernel test: ${OLD} modules on ${NEW}, loaded with finit_module flags 3 (= modprobe --force); setup ${setup.join("; ")}; preparation ${(prepMs / 1000).toFixed(1)} s`);
      lines.push(bootLine("distilled set", bootD));
      lines.push(bootLine("plain set", bootP));
      lines.push(`${"module".padEnd(8)} | distilled: check  errno  sysfs BTF   == relocate (bytes)        | plain: check verdict  errno  sysfs BTF  == own .BTF`);
      const failures: string[] = [];
      for (const [n] of MODULES) {
        const dc = distCheck.get(join(work, "dist", `${n}.ko`));
        const pc = plainCheck.get(join(work, "plain", `${n}.ko`));
        const reloc = readBytes(join(work, "reloc", `${n}.btf`));
        const own = readBytes(join(work, "own", `${n}.btf`));
        const dErr = bootD.loads.get(n), pErr = bootP.loads.get(n);
        const dBtf = bootD.btf.get(n), pBtf = bootP.btf.get(n);
        const dEq = !!dBtf && equalBytes(dBtf, reloc);
        const pEq = !!pBtf && equalBytes(pBtf, own);
        const verdict = pc?.plain?.verdict ?? "?";
        lines.push(
          `${n.padEnd(8)} | ${(dc?.ok ? "ok" : "FAIL").padEnd(16)} ${String(dErr ?? "-").padEnd(6)} ${(dBtf ? `${dBtf.length} B` : "absent").padEnd(11)} ${dBtf ? (dEq ? `equal (${reloc.length} B)` : `DIFFERS at ${firstDiff(dBtf, reloc)} (relocate ${reloc.length} B)`) : "-"}`.padEnd(74) +
          ` | ${verdict.padEnd(20)} ${String(pErr ?? "-").padEnd(6)} ${(pBtf ? `${pBtf.length} B` : "absent").padEnd(10)} ${pBtf ? (pEq ? "equal" : `DIFFERS at ${firstDiff(pBtf, own)}`) : "-"}`,
        );
        // Distilled: check ok <=> loaded with BTF byte-equal to btfkit relocate.
        if (!dc) failures.push(`${n}: no check result for the distilled module`);
        else if (dc.ok !== (dErr === 0 && dEq)) failures.push(`${n}: check says ${dc.ok ? "ok" : "fails"} but the kernel: errno ${dErr}, BTF ${dBtf ? (dEq ? "equal" : "different") : "absent"}`);
        if (dErr !== 0) failures.push(`${n}: distilled module did not load (errno ${dErr})`);
        if (!dEq) failures.push(`${n}: distilled module's sysfs BTF is ${dBtf ? "not byte-equal to btfkit relocate" : "absent"}`);
        // Plain: dropped <=> absent; wrong <=> present and the module's own bytes.
        if (pErr !== 0) failures.push(`${n}: plain module did not load (errno ${pErr})`);
        else if (verdict === "dropped" && pBtf) failures.push(`${n}: check predicted dropped, the kernel published ${pBtf.length} B`);
        else if (verdict === "wrong" && !pEq) failures.push(`${n}: check predicted wrong (published), the kernel ${pBtf ? "published other bytes" : "dropped it"}`);
        else if (verdict !== "dropped" && verdict !== "wrong") failures.push(`${n}: unexpected plain verdict ${verdict} (the kernels differ)`);
      }
      const bbr = bootD.congestion.split(/\s+/).includes("bbr");
      lines.push(`tcp_bbr (distilled, ${remapped.get("tcp_bbr")} .BTF_ids remapped): init ${bootD.loads.get("tcp_bbr") === 0 ? "succeeded" : `failed (errno ${bootD.loads.get("tcp_bbr")})`}; tcp_available_congestion_control = "${bootD.congestion}"`);
      const stale = bootP.loads.get("tcp_bbr-stale-ids");
      lines.push(`tcp_bbr distilled with its .BTF_ids NOT remapped: errno ${stale}${stale === 22 ? " (EINVAL)" : ""}; plain tcp_bbr then: errno ${bootP.loads.get("tcp_bbr")}, congestion control "${bootP.congestion}"`);
      lines.push(`taint: distilled boot ${taintText(bootD.taint)}, plain boot ${taintText(bootP.taint)}`);
      lines.push(`kernel log after /init, distilled boot: ${afterInit(bootD.dmesg)}`);
      lines.push(`kernel log after /init, plain boot: ${afterInit(bootP.dmesg)}`);
      console.log(lines.join("\n"));
      if (keep) console.log(`kernel test: work dir kept at ${work}`);

      expect(bootD.ok, bootLine("distilled set", bootD)).toBe(true);
      expect(bootP.ok, bootLine("plain set", bootP)).toBe(true);
      expect([bootD.release, bootP.release]).toEqual([NEW, NEW]);
      expect(stale, "tcp_bbr with stale .BTF_ids loaded").not.toBe(0);
      expect(stale, "tcp_bbr with stale .BTF_ids: no load result").toBeDefined();
      expect(bbr, `bbr not registered: "${bootD.congestion}"`).toBe(true);
      expect(Number(remapped.get("tcp_bbr")), "tcp_bbr's .BTF_ids were not remapped").toBeGreaterThan(0);
      expect(failures).toEqual([]);
    } finally {
      if (!keep) rmSync(work, { recursive: true, force: true });
    }
  }, 20 * 60_000);
});
