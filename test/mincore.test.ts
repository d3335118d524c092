// min-core with module BTFs: the tailored BTF, read by libbpf's resolver as
// the only kernel BTF, must give every CO-RE relocation record the same
// status, orig_val and new_val as the full kernel with its modules (target
// type ids aside: the output is renumbered). Objects: test/fixtures/mincore
// (sources and clang commands there). Modules: the k61-50 fixture modules,
// and small ones built here to put module names next to vmlinux names.
import { describe, it, expect, beforeAll } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { init, Btf, BtfBuilder, minCore, MinCoreRefused } from "../src/index.js";
import { resolveCore, CoreModule, CoreRecord } from "../src/coreRelo.js";
import { MinCoreSession } from "../src/mincore.js";
import { fixture, fixturePath, fixtureModules, cli, equalBytes, HAS_CORPUS, CORPUS, readMaybeGz } from "./helpers.js";

const obj = (n: string) => ({ name: `${n}.bpf.o`, bytes: new Uint8Array(readFileSync(fixturePath(`mincore/${n}.bpf.o`))) });

let vmlinux: Btf;
let modules: CoreModule[];
beforeAll(async () => {
  await init();
  vmlinux = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
  modules = fixtureModules().map((m) => ({ name: m, btf: Btf.parse(fixture(`k61-50/modules/${m}.btf.gz`), { base: vmlinux }) }));
});

const answer = (x: CoreRecord) => `${x.sec} #${x.relo} ${x.kind} ${x.localName} ${x.access}: ${x.status} ${x.origVal} ${x.newVal}`;

/** Every record of each object: on the kernel with modules, and on the output alone. */
function compare(objs: Array<{ name: string; bytes: Uint8Array }>, out: Uint8Array, mods: CoreModule[]) {
  const tailored = Btf.parse(out, { validate: "kernel" });
  const full: string[] = [];
  const mine: string[] = [];
  let fromModules = 0;
  for (const o of objs) {
    const a = resolveCore(o.bytes, vmlinux, { modules: mods, name: o.name });
    const b = resolveCore(o.bytes, tailored, { name: o.name });
    fromModules += a.records.filter((x) => x.targBtf !== null && x.targBtf !== "vmlinux").length;
    full.push(...a.records.map(answer));
    mine.push(...b.records.map(answer));
  }
  tailored.free();
  return { full, mine, fromModules };
}

describe("min-core with module BTFs", () => {
  it("module-only reads (tcp_bbr, veth, loop, bridge): same answers on the output alone", () => {
    const objs = [obj("mod_read"), obj("mod_flavors")];
    const r = minCore(objs, vmlinux, { modules });
    const { full, mine, fromModules } = compare(objs, r.btf, modules);
    expect(fromModules).toBeGreaterThan(20);
    expect(mine).toEqual(full);
    console.log(`min-core modules: ${full.length} records (${fromModules} resolved in modules) give the same answers on a ${r.btf.length}-byte tailored BTF of ${r.types} types`);
    expect(r.diverged).toEqual([]);
    // Unresolved records are reported, each one poisoned or an answer of 0.
    expect(r.unresolved.map((x) => `${x.kind} ${x.localName}`)).toEqual([
      "field_exists bbr___old", "byte_off bbr___old", "field_exists veth_priv___v1", "byte_off veth_priv___v1",
      "byte_sz loop_cmd___a", "type_exists no_such_mod_type", "enumval_exists bbr_mode___x",
      "type_matches veth_stats___m", "type_matches veth_rq_stats___m",
    ]);
    expect(r.poisoned).toBe(3);
    // Without the modules, those records do not resolve: the output really carries module types.
    const bare = minCore(objs, vmlinux, { verify: false });
    expect(bare.unresolved.length).toBeGreaterThan(r.unresolved.length + 20);
  });

  it("module types join as vmlinux types, in the output's id order after vmlinux's", () => {
    const r = minCore([obj("mod_read")], vmlinux, { modules });
    const b = Btf.parse(r.btf);
    const bbr = b.find("bbr", "STRUCT");
    const task = b.find("task_struct", "STRUCT");
    expect(bbr.length).toBe(1);
    expect(task.length).toBe(1);
    expect(task[0]).toBeLessThan(bbr[0]);
    // Only the members read are kept, at the module's offsets.
    const mod = modules.find((m) => m.name === "tcp_bbr")!.btf;
    const orig = mod.type(mod.find("bbr", "STRUCT")[0]).members;
    for (const m of b.type(bbr[0]).members) expect(orig.find((o) => o.name === m.name)!.bitOffset).toBe(m.bitOffset);
    expect(b.type(bbr[0]).members.length).toBeLessThan(orig.length);
    b.free();
  });

  it("the module rule: a module's copies of names vmlinux answers for are not candidates", () => {
    const collide = buildCollide();
    const mods = [...modules, { name: "collide", btf: collide }];
    const objs = [obj("mod_collide")];
    const r = minCore(objs, vmlinux, { modules: mods });
    const { full, mine } = compare(objs, r.btf, mods);
    expect(mine).toEqual(full);
    // The full kernel's answers come from the module for collide_dev and from vmlinux for the rest.
    const a = resolveCore(objs[0].bytes, vmlinux, { modules: mods });
    expect(new Set(a.records.map((x) => `${x.localName}:${x.targBtf}`))).toEqual(new Set([
      "collide_dev:collide", "file_system_type:vmlinux", "pid_type:vmlinux", "pid_t:vmlinux"]));
    const b = Btf.parse(r.btf);
    // One named file_system_type, pid_type and pid_t each (vmlinux's); the module's copies went nameless or away.
    expect(b.find("file_system_type").length).toBe(1);
    expect(b.find("pid_type").length).toBe(1);
    expect(b.find("pid_t").length).toBe(1);
    const dev = b.type(b.find("collide_dev")[0]).members;
    const fst = b.type(dev.find((m) => m.name === "fst")!.type);
    expect(fst.kindName).toBe("STRUCT");
    expect(fst.name).toBe("");
    expect(fst.members.map((m) => [m.name, m.bitOffset])).toEqual([["fs_flags", 32]]);
    // The typedef is replaced by what it names (a nested typedef's name is never compared).
    expect(b.type(dev.find((m) => m.name === "owner")!.type).name).toBe("long int");
    b.free();

    // Without the rule the same marks give an output that answers differently.
    const s = new MinCoreSession(vmlinux, mods.map((m) => m.btf));
    for (const x of a.records) {
      if (x.targBtf === null || x.targId === null) continue;
      const t = x.targBtf === "vmlinux" ? 0 : 1 + mods.findIndex((m) => m.name === x.targBtf);
      s.record(x.kind, t, x.targId, x.targSpec ?? [0]);
    }
    const naive = s.build().btf;
    s.free();
    const bad = compare(objs, naive, mods);
    expect(bad.mine).not.toEqual(bad.full);
  });

  it("a resolver error refuses the objects, naming the record", () => {
    const amb = [buildAmb(8), buildAmb(16)].map((btf, i) => ({ name: `amb${i + 1}`, btf }));
    let err: unknown;
    try { minCore([obj("mod_ambig")], vmlinux, { modules: amb }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(MinCoreRefused);
    const e = err as MinCoreRefused;
    expect(e.code).toBe("CORE_REFUSED");
    expect(e.message).toMatch(/mod_ambig\.bpf\.o kprobe\/ambig relo #1 .*struct amb_dev \.b .*field_offset_ambiguity/);
    expect(e.records.map((x) => x.relo)).toEqual([1]);
    expect(e.offset).toBe(e.records[0].recordOffset);
  });

  it("module candidates that all match one record and differ later keep what every record reads", () => {
    // amb_dev in two modules: {a, z} and {a, b}. Record 0 (a) matches both,
    // record 1 (b) only the second; BTFGen's first-match marking alone would
    // let record 0 prune the second copy away in the output.
    const mods = [buildAmbWith("z"), buildAmbWith("b")].map((btf, i) => ({ name: `amb${i + 1}`, btf }));
    const objs = [obj("mod_ambig")];
    const full = resolveCore(objs[0].bytes, vmlinux, { modules: mods });
    expect(full.records.map((x) => `${x.targBtf}:${x.matched}:${x.newVal}`)).toEqual(["amb1:2:0", "amb2:1:4"]);
    const r = minCore(objs, vmlinux, { modules: mods });
    const cmp = compare(objs, r.btf, mods);
    expect(cmp.mine).toEqual(cmp.full);
  });

  it("CLI: one kernel with modules; the output validates as kernel BTF and round-trips through convert", () => {
    const dir = mkdtempSync(join(tmpdir(), "btfkit-mincore-"));
    const margs = fixtureModules().flatMap((m) => ["--module", fixturePath(`k61-50/modules/${m}.btf.gz`)]);
    const outFile = join(dir, "out.btf");
    const r = cli(["min-core", fixturePath("mincore/mod_read.bpf.o"), fixturePath("mincore/mod_flavors.bpf.o"), "--kernel", fixturePath("k61-50/vmlinux.btf.gz"), ...margs, "-o", outFile]);
    expect(r.code, r.stderr).toBe(0);
    // Each unresolved record is named on stderr.
    expect(r.stderr.split("\n").filter((l) => /poisoned|= 0 \(nothing/.test(l)).length).toBe(9);
    expect(r.stderr).toMatch(/kprobe\/flavors relo #1 \(insn 6\): byte_off struct bbr___old \.probe_rtt_round_done_v0 \(access 0:1\): poisoned/);
    expect(cli(["info", outFile, "--validate", "kernel"]).code).toBe(0);
    const rt = join(dir, "rt.btf");
    expect(cli(["convert", outFile, "-o", rt]).code).toBe(0);
    expect(equalBytes(new Uint8Array(readFileSync(rt)), new Uint8Array(readFileSync(outFile)))).toBe(true);
    // The same bytes as the API.
    const api = minCore([obj("mod_read"), obj("mod_flavors")], vmlinux, { modules });
    expect(equalBytes(api.btf, new Uint8Array(readFileSync(outFile)))).toBe(true);
  });

  it("CLI: a refused object exits 1 and writes nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "btfkit-mincore-"));
    const mods = [buildAmb(8), buildAmb(16)].map((b, i) => {
      const p = join(dir, `amb${i + 1}.btf`);
      writeFileSync(p, b.toBytes());
      return ["--module", p];
    }).flat();
    const outFile = join(dir, "out.btf");
    const r = cli(["min-core", fixturePath("mincore/mod_ambig.bpf.o"), "--kernel", fixturePath("k61-50/vmlinux.btf.gz"), ...mods, "-o", outFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/relo #1 .*field_offset_ambiguity/);
    expect(existsSync(outFile)).toBe(false);
  });

  it("CLI: several kernels into a directory, one file each and a table", () => {
    const dir = mkdtempSync(join(tmpdir(), "btfkit-mincore-"));
    const k50 = fixturePath("k61-50/vmlinux.btf.gz");
    const k47 = fixturePath("k61-47/vmlinux.btf.gz");
    const r = cli(["min-core", fixturePath("mincore/mod_read.bpf.o"), "--kernel", k50, "--kernel", k47, "-o", join(dir, "out") + "/"]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(dir, "out")).sort()).toEqual(["k61-47.btf", "k61-50.btf"]);
    const lines = r.stdout.toString().trim().split("\n");
    expect(lines[0]).toMatch(/^kernel\s+types\s+bytes\s+resolved\s+poisoned\s+file$/);
    expect(lines.length).toBe(3);
    for (const [i, k] of [[1, k50], [2, k47]] as const) {
      const f = join(dir, "out", i === 1 ? "k61-50.btf" : "k61-47.btf");
      const size = readFileSync(f).length;
      const cols = lines[i].split(/\s+/);
      expect(cols[0]).toBe(k);
      expect(Number(cols[2])).toBe(size);
      expect(cli(["info", f, "--validate", "kernel"]).code).toBe(0);
    }
  });
});

/** A module split on k61-50 whose types share names with vmlinux types but not their layouts. */
function buildCollide(): Btf {
  const intId = vmlinux.find("int", "INT")[0];
  const longId = vmlinux.find("long int", "INT")[0];
  const b = new BtfBuilder(vmlinux);
  const fst = b.addStruct("file_system_type", 8);
  b.addMember("pad", intId, 0);
  b.addMember("fs_flags", intId, 32);
  const pt = b.addEnum("pid_type", 4);
  b.addEnumValue("PIDTYPE_PID", 0);
  b.addEnumValue("PIDTYPE_TGID", 1);
  b.addEnumValue("PIDTYPE_PGID", 7);
  const pid = b.addTypedef("pid_t", longId);
  b.addStruct("collide_dev", 24);
  b.addMember("id", intId, 0);
  b.addMember("fst", fst, 32);
  b.addMember("kind", pt, 96);
  b.addMember("owner", pid, 128);
  return b.finish();
}

/** A module with struct amb_dev { int a; int <second>; }. */
function buildAmbWith(second: string): Btf {
  const intId = vmlinux.find("int", "INT")[0];
  const b = new BtfBuilder(vmlinux);
  b.addStruct("amb_dev", 8);
  b.addMember("a", intId, 0);
  b.addMember(second, intId, 32);
  return b.finish();
}

/** A module with struct amb_dev { int a; int b; } with b at `off` bytes. */
function buildAmb(off: number): Btf {
  const intId = vmlinux.find("int", "INT")[0];
  const b = new BtfBuilder(vmlinux);
  b.addStruct("amb_dev", off + 4);
  b.addMember("a", intId, 0);
  b.addMember("b", intId, off * 8);
  return b.finish();
}

describe.runIf(HAS_CORPUS)("min-core on the corpus (../shared)", () => {
  it("every libbpf-tools object on every kernel: same answers on the output alone, kernel-valid", () => {
    const dir = join(CORPUS, "bpf/libbpf-tools");
    const objs = readdirSync(dir).filter((f) => f.endsWith(".bpf.o")).sort()
      .map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(dir, f))) }));
    let outputs = 0, records = 0, empty = 0;
    for (const k of ["k61-50", "k61-47", "k61-50-cloud"]) {
      const kernel = Btf.parse(readMaybeGz(join(CORPUS, k, "vmlinux.btf.gz")));
      for (const o of objs) {
        const r = minCore([o], kernel);
        expect(r.diverged.map((d) => answer(d.record)), `${k} ${o.name}`).toEqual([]);
        if (r.records > 0) Btf.parse(r.btf, { validate: "kernel" }).free();
        else {
          // No relocation: no types, as bpftool writes it; the kernel refuses an empty type section,
          // libbpf (the reader of tailored BTF) takes it.
          empty++;
          expect(r.types, `${k} ${o.name}`).toBe(0);
          expect(() => Btf.parse(r.btf, { validate: "kernel" })).toThrow(/No type found/);
          Btf.parse(r.btf).free();
        }
        outputs++;
        records += r.records;
      }
      kernel.free();
    }
    console.log(`min-core corpus: ${outputs} tailored BTFs (${records} records) kernel-valid (${empty} of them from objects without relocations: empty, as bpftool's), each answering every record as its kernel`);
    expect(outputs).toBe(objs.length * 3);
  });
});
