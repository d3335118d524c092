import { describe, it, expect, beforeAll } from "vitest";
import { existsSync, writeFileSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { init, Btf, BtfBuilder, INT_SIGNED, Checker } from "../src/index.js";
import { replaceElfSections } from "../src/elf.js";
import * as transform from "../src/transform.js";
import { fixture, fixturePath, fixtureModules, cli, HAS_CORPUS, CORPUS, GOLDEN, corpusModules } from "./helpers.js";

beforeAll(async () => { await init(); });

const ok = (from: string, to: string, m: string, root = join(process.cwd(), "test/fixtures/golden/relocate")) =>
  !existsSync(join(root, `${from}__to__${to}`, `${m}.err${root.includes("fixtures") ? ".gz" : ""}`));

describe("check on fixtures", () => {
  it("gives the verdicts libbpf's relocation gives, one kernel parse for all modules", () => {
    const k50 = { name: "k61-50", btf: Btf.parse(fixture("k61-50/vmlinux.btf.gz")), raw: fixture("k61-50/vmlinux.btf.gz") };
    const k47 = { name: "k61-47", btf: Btf.parse(fixture("k61-47/vmlinux.btf.gz")), raw: fixture("k61-47/vmlinux.btf.gz") };
    const checker = new Checker([k50, k47], { builtAgainst: k50 });
    let n = 0;
    for (const m of fixtureModules("k61-50")) {
      const res = checker.checkModule({ name: m, raw: fixture(`k61-50/modules/${m}.btf.gz`) });
      expect(res.map((r) => r.kernel)).toEqual(["k61-50", "k61-47"]);
      expect(res[0].ok, m).toBe(true);
      expect(res[0].plain?.verdict).toBe("exact");
      expect(res[1].ok, m).toBe(ok("k61-50", "k61-47", m));
      if (!res[1].ok) {
        // libbpf's named type (the .err file) is among our problems.
        const err = new TextDecoder().decode(fixture(`golden/relocate/k61-50__to__k61-47/${m}.err.gz`));
        const named = /type '([^']+)'/.exec(err)![1];
        expect(res[1].problems.map((p) => p.type)).toContain(named);
        const p = res[1].problems.find((x) => x.type === named)!;
        expect(p.reason).toBe("size");
        expect(p.path).toMatch(/-> struct device$/);
      }
      expect(res[1].plain?.verdict).not.toBe("exact");
      n += res.length;
    }
    const report = checker.finish();
    expect(report.results.length).toBe(n);
    expect(report.disagreements).toEqual([]); // all built against the same kernel
    console.log(`check (fixtures): ${n} pairs`);
  });

  it("CLI: matrix, JSON schema and exit codes", () => {
    const mods = ["loop", "zl10353"].map((m) => fixturePath(`k61-50/modules/${m}.btf.gz`));
    const k50 = fixturePath("k61-50/vmlinux.btf.gz"), k47 = fixturePath("k61-47/vmlinux.btf.gz");
    const j = cli(["check", ...mods, "--built-against", k50, "--kernel", k50, "--kernel", k47, "--json"]);
    expect(j.code).toBe(1);
    const r = JSON.parse(j.stdout.toString());
    expect(r.results.map((x: any) => [x.module, x.kernel, x.ok])).toEqual([
      [mods[0], k50, true], [mods[0], k47, true], [mods[1], k50, true], [mods[1], k47, false],
    ]);
    const p = r.results[3].problems[0];
    for (const key of ["type", "kind", "distilledId", "reason", "expected", "found", "path"]) expect(p).toHaveProperty(key);
    const t = cli(["check", mods[0], "--built-against", k50, "--kernel", k50, "--kernel", k47]);
    expect(t.code).toBe(0);
    expect(t.stdout.toString()).toMatch(/loop\s+ok\s+ok/);
    expect(cli(["check", mods[0], "--kernel", k50]).code).toBe(2); // no .BTF.base and no --built-against
  });

  it("a .ko distilled by btfkit needs no --built-against", () => {
    const dir = mkdtempSync(join(tmpdir(), "btfkit-check-"));
    const ko = join(dir, "tcp_bbr.ko");
    writeFileSync(join(dir, "in.ko"), fixture("k61-50/ko/tcp_bbr.ko.gz"));
    const d = cli(["distill", join(dir, "in.ko"), "--base", fixturePath("k61-50/vmlinux.btf.gz"), "-o", ko]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toMatch(/dropped the module signature/);
    const r = cli(["check", ko, "--kernel", fixturePath("k61-47/vmlinux.btf.gz"), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.toString());
    expect(j.results[0].ok).toBe(true);
    expect(j.results[0].plain).toBeUndefined(); // it carries .BTF.base: no plain-split judgement
  });

  it("a plain .ko (no .BTF.base) is judged by its .BTF bytes, as the raw split blob is", () => {
    // Found by the real-kernel test: check used to parse the .ko's split .BTF without a base and fail (exit 2).
    const dir = mkdtempSync(join(tmpdir(), "btfkit-check-"));
    const ko = join(dir, "tcp_bbr.ko");
    writeFileSync(ko, fixture("k61-50/ko/tcp_bbr.ko.gz"));
    const args = ["--kernel", fixturePath("k61-47/vmlinux.btf.gz"), "--kernel", fixturePath("k61-50/vmlinux.btf.gz"), "--built-against", fixturePath("k61-50/vmlinux.btf.gz"), "--json"];
    const r = cli(["check", ko, ...args]);
    expect(r.code, r.stderr).toBeLessThan(2);
    const raw = cli(["check", fixturePath("k61-50/modules/tcp_bbr.btf.gz"), ...args]);
    const strip = (s: Buffer) => JSON.parse(s.toString()).results.map((x: { module?: string }) => ({ ...x, module: "" }));
    const got = strip(r.stdout);
    expect(got).toEqual(strip(raw.stdout));
    expect(got[1].plain.verdict).toBe("exact");
    expect(["dropped", "wrong"]).toContain(got[0].plain.verdict);
  });
});

/** Kernel with struct inner { int a; int b; } (fields swapped when `swap`), and a module embedding it. */
function makeKernel(swap: boolean): Btf {
  const b = new BtfBuilder();
  const int = b.addInt("int", 4, INT_SIGNED);
  b.addStruct("inner", 8);
  if (swap) { b.addMember("b", int, 0); b.addMember("a", int, 32); } else { b.addMember("a", int, 0); b.addMember("b", int, 32); }
  b.addStruct("pointee", 8);
  b.addMember(swap ? "y" : "x", int, 0);
  b.addMember(swap ? "x" : "y", int, 32);
  return b.finish();
}

describe("check --strict", () => {
  it("catches a moved field of equal size that size-only relocation accepts", () => {
    const A = makeKernel(false), B = makeKernel(true);
    const mb = new BtfBuilder(A);
    const [inner] = A.find("inner", "STRUCT"), [pointee] = A.find("pointee", "STRUCT");
    const ptr = mb.addPtr(pointee);
    mb.addStruct("mod_state", 16);
    mb.addMember("in", inner, 0);
    mb.addMember("p", ptr, 64);
    const mod = mb.finish();
    const raw = mod.toBytes();
    const kA = { name: "A", btf: A, raw: A.toBytes() }, kB = { name: "B", btf: B, raw: B.toBytes() };
    const lax = new Checker([kB], { builtAgainst: kA }).checkModule({ name: "m", raw });
    expect(lax[0].ok).toBe(true); // libbpf's rule: same name, same size
    const strict = new Checker([kA, kB], { builtAgainst: kA, strict: true }).checkModule({ name: "m", raw });
    expect(strict[0].ok).toBe(true);
    expect(strict[0].problems).toEqual([]);
    expect(strict[1].ok).toBe(false);
    const errors = strict[1].problems.filter((p) => p.severity === "error");
    expect(errors.map((p) => `${p.type} ${p.path} ${p.reason}`).sort()).toEqual(["inner inner.a layout", "inner inner.b layout"]);
    const warnings = strict[1].problems.filter((p) => p.severity === "warning");
    expect(warnings.map((p) => `${p.type} ${p.path}`).sort()).toEqual(["pointee pointee.x", "pointee pointee.y"]);
  });

  it("reports modules that disagree about a distilled type's size", () => {
    const A = makeKernel(false);
    const b2 = new BtfBuilder();
    const int = b2.addInt("int", 4, INT_SIGNED);
    b2.addStruct("inner", 12); b2.addMember("a", int, 0); b2.addMember("b", int, 32); b2.addMember("c", int, 64);
    const A2 = b2.finish();
    const mk = (base: Btf) => { const m = new BtfBuilder(base); m.addStruct("s", 16); m.addMember("in", base.find("inner", "STRUCT")[0], 0); return m.finish(); };
    const m1 = mk(A), m2 = mk(A2);
    // Modules carrying their own distilled bases (as .ko with .BTF.base do).
    const { distill } = transform;
    const d1 = distill(m1), d2 = distill(m2);
    const c = new Checker([{ name: "A", btf: A }], {});
    c.checkModule({ name: "m1.ko", distilled: { split: d1.split, base: d1.base } });
    c.checkModule({ name: "m2.ko", distilled: { split: d2.split, base: d2.base } });
    const r = c.finish();
    expect(r.disagreements).toEqual([{ kind: "STRUCT", type: "inner", sizes: { "8": ["m1.ko"], "12": ["m2.ko"] } }]);
    expect(r.results.map((x) => x.ok)).toEqual([true, false]);
  });
});

describe.runIf(HAS_CORPUS)("check over the corpus", () => {
  it("250 k61-50 modules x 3 kernels in one call agree with the golden relocations", () => {
    const mods = corpusModules("k61-50").map((m) => join(CORPUS, "k61-50/modules", m + ".btf"));
    const ks = ["k61-50", "k61-47", "k61-50-cloud"].map((k) => join(CORPUS, k, "vmlinux.btf.gz"));
    const r = cli(["check", ...mods, "--built-against", ks[0], ...ks.flatMap((k) => ["--kernel", k]), "--json"]);
    expect([0, 1]).toContain(r.code);
    const j = JSON.parse(r.stdout.toString());
    let agree = 0;
    const reasons: Record<string, number> = {};
    for (const x of j.results) {
      const m = x.module.split("/").pop().replace(/\.btf$/, "");
      const k = x.kernel.split("/").slice(-2)[0];
      if (x.ok === ok("k61-50", k, m, join(GOLDEN, "relocate"))) agree++;
      for (const p of x.problems) reasons[`${p.reason} ${p.kind.toLowerCase()} ${p.type}`] = (reasons[`${p.reason} ${p.kind.toLowerCase()} ${p.type}`] ?? 0) + 1;
    }
    const top = Object.entries(reasons).sort((a, b) => b[1] - a[1]).slice(0, 8);
    console.log(`check (corpus): ${agree}/${j.results.length} verdicts agree with golden relocate; top reasons: ${JSON.stringify(top)}`);
    expect(j.results.length).toBe(750);
    expect(agree).toBe(750);
  });
});

describe("check --jobs", () => {
  /** The same check with --jobs 1 and with worker threads: identical stdout (JSON or text) and exit code. */
  const sameAcrossJobs = (args: string[], jobs = [2, 3]) => {
    const one = cli([...args, "--jobs", "1"]);
    for (const n of jobs) {
      const many = cli([...args, "--jobs", String(n)]);
      expect(many.code, many.stderr).toBe(one.code);
      expect(many.stdout.toString(), `--jobs ${n}`).toBe(one.stdout.toString());
      expect(many.stderr.replace(/check: [^\n]*\r/g, "")).toBe(one.stderr.replace(/check: [^\n]*\r/g, ""));
    }
    return one;
  };

  it("gives --jobs 1's report on the fixtures, .ko files (plain, compressed, with .BTF.base) included", () => {
    const dir = mkdtempSync(join(tmpdir(), "btfkit-jobs-"));
    // An uncompressed .ko takes the direct read; its verdicts are those of its .BTF.
    const plainKo = join(dir, "tcp_bbr.ko");
    writeFileSync(plainKo, fixture("k61-50/ko/tcp_bbr.ko.gz"));
    // Two modules carrying .BTF.base from kernels that disagree about `inner`
    // (8 and 12 bytes): the disagreement needs both workers' size records.
    const A = makeKernel(false);
    const b2 = new BtfBuilder();
    const int = b2.addInt("int", 4, INT_SIGNED);
    b2.addStruct("inner", 12); b2.addMember("a", int, 0); b2.addMember("b", int, 32); b2.addMember("c", int, 64);
    const A2 = b2.finish();
    const distilledKo = (base: Btf, file: string) => {
      const m = new BtfBuilder(base);
      m.addStruct("s", 16);
      m.addMember("in", base.find("inner", "STRUCT")[0], 0);
      const d = transform.distill(m.finish());
      const ko = replaceElfSections(fixture("k61-50/ko/tcp_bbr.ko.gz"), { ".BTF": d.split.toBytes(), ".BTF.base": d.base.toBytes() });
      writeFileSync(join(dir, file), ko.bytes);
      return join(dir, file);
    };
    const m1 = distilledKo(A, "m1.ko"), m2 = distilledKo(A2, "m2.ko");
    const kA = join(dir, "A.btf");
    writeFileSync(kA, A.toBytes());
    const mods = fixtureModules("k61-50").map((m) => fixturePath(`k61-50/modules/${m}.btf.gz`));
    const k50 = fixturePath("k61-50/vmlinux.btf.gz"), k47 = fixturePath("k61-47/vmlinux.btf.gz");
    // Distilled modules relocate onto A (m2 fails: its inner is 12 bytes); plain ones need k61-50.
    const distilledArgs = ["check", m1, m2, m1, "--kernel", kA, "--json"];
    const d = sameAcrossJobs(distilledArgs);
    const dj = JSON.parse(d.stdout.toString());
    expect(dj.disagreements).toEqual([{ kind: "STRUCT", type: "inner", sizes: { "8": [m1], "12": [m2] } }]);
    expect(dj.results.map((x: any) => x.ok)).toEqual([true, false, true]);

    const args = ["check", ...mods, plainKo, fixturePath("k61-50/ko/tcp_bbr.ko.gz"), ...mods.slice(0, 3), "--built-against", k50, "--kernel", k50, "--kernel", k47];
    const j = sameAcrossJobs([...args, "--json"]);
    sameAcrossJobs(args); // the text matrix too
    const r = JSON.parse(j.stdout.toString());
    expect(r.results.length).toBe((mods.length + 5) * 2);
    const strip = (x: any) => ({ ...x, module: "" });
    const btf = r.results.filter((x: any) => x.module.endsWith("tcp_bbr.btf.gz")).map(strip);
    expect(r.results.filter((x: any) => x.module === plainKo).map(strip)).toEqual(btf.slice(0, 2));
    expect(r.results.filter((x: any) => x.module.endsWith("tcp_bbr.ko.gz")).map(strip)).toEqual(btf.slice(0, 2));
    console.log(`check --jobs (fixtures): ${r.results.length + dj.results.length} pairs identical with 1, 2 and 3 jobs`);
  });

  it("stops at the first bad module in module order, as --jobs 1 does", () => {
    const dir = mkdtempSync(join(tmpdir(), "btfkit-jobs-"));
    const bad = join(dir, "bad.btf");
    writeFileSync(bad, new Uint8Array([0x9f, 0xeb, 1, 0, 24, 0, 0, 0]));
    const mods = fixtureModules("k61-50").map((m) => fixturePath(`k61-50/modules/${m}.btf.gz`));
    const k50 = fixturePath("k61-50/vmlinux.btf.gz");
    const r = sameAcrossJobs(["check", ...mods.slice(0, 4), bad, ...mods.slice(4), join(dir, "missing.btf"), "--built-against", k50, "--kernel", k50]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.btf/);
    expect(cli(["check", mods[0], "--kernel", k50, "--built-against", k50, "--jobs", "0"]).code).toBe(2);
    expect(cli(["check", mods[0], "--kernel", k50, "--built-against", k50, "--jobs", "x"]).code).toBe(2);
  });

  it.runIf(HAS_CORPUS)("gives --jobs 1's report on the corpus's 250 modules x 3 kernels", () => {
    const mods = corpusModules("k61-50").map((m) => join(CORPUS, "k61-50/modules", m + ".btf"));
    const ks = ["k61-50", "k61-47", "k61-50-cloud"].map((k) => join(CORPUS, k, "vmlinux.btf.gz"));
    const r = sameAcrossJobs(["check", ...mods, "--built-against", ks[0], ...ks.flatMap((k) => ["--kernel", k]), "--json"], [2]);
    const j = JSON.parse(r.stdout.toString());
    expect(j.results.length).toBe(750);
    console.log(`check --jobs (corpus): ${j.results.length} pairs identical with 1 and 2 jobs`);
  });
});
