// Atomic output and untouched inputs: a failing `btfkit distill
// X.ko -o OUT.ko` (and convert, dedup, relocate -o) leaves no OUT, no
// temporary file, and an existing OUT as it was; a run that writes several
// files writes all or none; no run modifies its inputs.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, mkdirSync, existsSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { init } from "../src/index.js";
import { fixture, cli } from "./helpers.js";

const DIR = mkdtempSync(join(tmpdir(), "btfkit-atomic-"));
const hash = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");
const p = (name: string) => join(DIR, name);
let inputs: Record<string, string>;

beforeAll(async () => {
  await init();
  const ko = fixture("k61-50/ko/tcp_bbr.ko.gz");
  writeFileSync(p("vmlinux"), fixture("k61-50/vmlinux.btf.gz"));
  writeFileSync(p("other-vmlinux"), fixture("k61-47/vmlinux.btf.gz"));
  writeFileSync(p("good.ko"), ko);
  // Cut inside .BTF's records: the ELF reads, the BTF does not.
  const bad = ko.slice();
  bad.fill(0xff, 9168 + 24, 9168 + 200);
  writeFileSync(p("bad.ko"), bad);
  writeFileSync(p("loop.btf"), fixture("k61-50/modules/loop.btf.gz"));
  writeFileSync(p("bad.btf"), fixture("k61-50/modules/loop.btf.gz").subarray(0, 100));
  inputs = Object.fromEntries(["vmlinux", "other-vmlinux", "good.ko", "bad.ko", "loop.btf", "bad.btf"].map((f) => [f, hash(p(f))]));
});
afterAll(() => {
  // Every input is byte for byte what it was, whatever ran in between.
  for (const [f, h] of Object.entries(inputs)) expect(hash(p(f)), f).toBe(h);
  rmSync(DIR, { recursive: true, force: true });
});

/** Files in DIR (and a subdirectory) that a run left behind: temporaries are dot files ending in .tmp. */
function leftovers(): string[] {
  const all: string[] = [];
  for (const d of [DIR, ...readdirSync(DIR, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(DIR, e.name))]) {
    for (const f of readdirSync(d)) if (f.endsWith(".tmp")) all.push(join(d, f));
  }
  return all;
}

describe("a failing run writes nothing", () => {
  it("distill X.ko -o OUT.ko with an unreadable .BTF: exit 2, no OUT.ko, no temporary", () => {
    const r = cli(["distill", p("bad.ko"), "--base", p("vmlinux"), "-o", p("out1.ko")]);
    expect(r.code, r.stderr).toBe(2);
    expect(existsSync(p("out1.ko"))).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it("distill X.ko -o OUT.ko whose OUT.ko is a directory: exit 2, the temporary removed", () => {
    mkdirSync(p("out2.ko"));
    const r = cli(["distill", p("good.ko"), "--base", p("vmlinux"), "-o", p("out2.ko")]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/cannot write/);
    expect(readdirSync(p("out2.ko"))).toEqual([]);
    expect(leftovers()).toEqual([]);
  });

  it("an existing OUT is left as it was by a failing run", () => {
    writeFileSync(p("out3.btf"), "previous contents");
    for (const args of [
      ["distill", p("bad.ko"), "--base", p("vmlinux"), "-o", p("out3.btf")],
      ["convert", p("bad.btf"), "--base", p("vmlinux"), "-o", p("out3.btf")],
      ["dedup", p("bad.btf"), "--base", p("vmlinux"), "-o", p("out3.btf")],
      ["relocate", p("bad.btf"), "--base", p("vmlinux"), "-o", p("out3.btf")],
    ]) {
      const r = cli(args);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(2);
      expect(readFileSync(p("out3.btf"), "utf8"), args[0]).toBe("previous contents");
    }
    expect(leftovers()).toEqual([]);
  });

  it("convert, dedup and relocate -o with bad input or an unwritable OUT: no OUT, no temporary", () => {
    for (const verb of ["convert", "dedup", "relocate"]) {
      const r = cli([verb, p("bad.btf"), "--base", p("vmlinux"), "-o", p(`${verb}.out`)]);
      expect(r.code, `${verb}: ${r.stderr}`).toBe(2);
      expect(existsSync(p(`${verb}.out`)), verb).toBe(false);
      mkdirSync(p(`${verb}.dir`));
      const w = cli([verb, p("loop.btf"), "--base", p("vmlinux"), "-o", p(`${verb}.dir`)]);
      expect(w.code, `${verb} into a directory: ${w.stderr}`).toBe(2);
      expect(readdirSync(p(`${verb}.dir`)), verb).toEqual([]);
    }
    expect(leftovers()).toEqual([]);
  });

  it("several outputs are all or none: distill --out-base/--out-split, relocate -o/--map", () => {
    const d = cli(["distill", p("loop.btf"), "--base", p("vmlinux"), "--out-base", p("d.base"), "--out-split", p("missing-dir/d.split")]);
    expect(d.code, d.stderr).toBe(2);
    expect(existsSync(p("d.base"))).toBe(false);
    const r = cli(["relocate", p("good.ko"), "--base", p("other-vmlinux"), "-o", p("r.out"), "--map", p("missing-dir/r.map")]);
    expect(r.code, r.stderr).toBe(2);
    expect(existsSync(p("r.out"))).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it("an output directory without write permission: exit 2, nothing written", () => {
    if (process.getuid?.() === 0) return; // root writes anyway
    mkdirSync(p("ro"));
    chmodSync(p("ro"), 0o555);
    const r = cli(["convert", p("loop.btf"), "--base", p("vmlinux"), "-o", p("ro/x.btf")]);
    chmodSync(p("ro"), 0o755);
    expect(r.code).toBe(2);
    expect(readdirSync(p("ro"))).toEqual([]);
  });
});

describe("successful runs", () => {
  it("write exactly their outputs and leave the inputs untouched", () => {
    const d = cli(["distill", p("good.ko"), "--base", p("vmlinux"), "-o", p("ok.ko")]);
    expect(d.code, d.stderr).toBe(0);
    const r = cli(["relocate", p("ok.ko"), "--base", p("other-vmlinux"), "-o", p("ok.relocated"), "--map", p("ok.map")]);
    expect(r.code, r.stderr).toBe(0);
    for (const f of ["ok.ko", "ok.relocated", "ok.map"]) expect(readFileSync(p(f)).length, f).toBeGreaterThan(0);
    const c = cli(["dedup", p("loop.btf"), "--base", p("vmlinux"), "-o", p("ok.dedup")]);
    expect(c.code, c.stderr).toBe(0);
    expect(leftovers()).toEqual([]);
    for (const [f, h] of Object.entries(inputs)) expect(hash(p(f)), f).toBe(h);
  });
});
