// The marking and writing half of min-core (assembly/mincore.ts), driven with
// target specs given by hand or read from libbpf's answers
// (../shared/golden/core), checked against bpftool's outputs
// (../shared/golden/min_core) and against what a tailored BTF must hold.
import { describe, it, expect, beforeAll } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { init, Btf } from "../src/index.js";
import { MinCoreSession } from "../src/mincore.js";
import { fixture, fixturePath, GOLDEN, HAS_CORPUS, CORPUS, readMaybeGz, equalBytes, firstDiff, cli } from "./helpers.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";

let vmlinux: Btf;
beforeAll(async () => {
  await init();
  vmlinux = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
});

function ids(b: Btf, name: string, kind: string): number {
  const found = b.find(name, kind as never);
  expect(found.length).toBeGreaterThan(0);
  return found[0];
}

function memberIndex(b: Btf, id: number, name: string): number {
  const i = b.type(id).members.findIndex((m) => m.name === name);
  expect(i).toBeGreaterThanOrEqual(0);
  return i;
}

describe("min-core marking, hand-made specs on k61-50", () => {
  it("a field relocation keeps the path's members only, pointers become void *", () => {
    const s = new MinCoreSession(vmlinux);
    const task = ids(vmlinux, "task_struct", "STRUCT");
    const real = memberIndex(vmlinux, task, "mm");
    const pid = memberIndex(vmlinux, task, "pid");
    s.record("byte_off", 0, task, [0, real]);
    s.record("byte_off", 0, task, [0, pid]);
    const { btf, types } = s.build();
    s.free();
    const out = Btf.parse(btf, { validate: "kernel" });
    expect(out.typeCount - 1).toBe(types);
    const t = out.type(out.find("task_struct")[0]);
    expect(t.size).toBe(vmlinux.type(task).size);
    const ms = t.members;
    expect(ms.map((m) => m.name)).toEqual(["pid", "mm"].sort((a, b) =>
      memberIndex(vmlinux, task, a) - memberIndex(vmlinux, task, b)));
    const rp = ms.find((m) => m.name === "mm")!;
    // struct mm_struct * is kept as a pointer to void: its target is not
    // marked (btfgen_mark_type without follow_pointers).
    expect(out.type(rp.type).kindName).toBe("PTR");
    expect(out.type(rp.type).type).toBe(0);
    // Bit offsets are the kernel's.
    const orig = vmlinux.type(task).members;
    expect(rp.bitOffset).toBe(orig[real].bitOffset);
  });

  it("type_exists follows pointers; struct members are not kept", () => {
    const s = new MinCoreSession(vmlinux);
    const f = ids(vmlinux, "file", "STRUCT");
    s.record("type_exists", 0, f, [0]);
    const { btf } = s.build();
    s.free();
    const out = Btf.parse(btf, { validate: "kernel" });
    const id = out.find("file")[0];
    expect(out.type(id).vlen).toBe(0);
    expect(out.type(id).size).toBe(vmlinux.type(f).size);
  });

  it("type_matches keeps every member, and stops at structs behind pointers", () => {
    const s = new MinCoreSession(vmlinux);
    const lh = ids(vmlinux, "list_head", "STRUCT");
    s.record("type_matches", 0, lh, [0]);
    const { btf } = s.build();
    s.free();
    const out = Btf.parse(btf, { validate: "kernel" });
    const id = out.find("list_head")[0];
    expect(out.type(id).members.map((m) => m.name)).toEqual(["next", "prev"]);
    // next is struct list_head *: the pointer leads back to the same (kept) struct.
    const next = out.type(id).members[0];
    expect(out.type(out.type(next.type).type).name).toBe("list_head");
  });

  it("enum values keep the whole enum; local_type_id keeps nothing", () => {
    const s = new MinCoreSession(vmlinux);
    const e = ids(vmlinux, "pid_type", "ENUM");
    s.record("enumval_value", 0, e, [1]);
    s.record("local_type_id", 0, 0, []);
    s.record("byte_off", 0, 0, []); // nothing matched
    const { btf, types } = s.build();
    s.free();
    expect(types).toBe(1);
    const out = Btf.parse(btf);
    expect(out.type(1).values.length).toBe(vmlinux.type(e).vlen);
  });

  it("bad specs are typed errors, not traps", () => {
    const s = new MinCoreSession(vmlinux);
    const task = ids(vmlinux, "task_struct", "STRUCT");
    expect(() => s.record("byte_off", 0, task, [0, 100000])).toThrow(/USAGE|access index/);
    expect(() => s.record("byte_off", 0, vmlinux.typeCount + 5, [0])).toThrow(/out of range/);
    expect(() => s.record("byte_off", 3, task, [0])).toThrow(/target/);
    s.free();
  });

  it("no marks give bpftool's empty BTF: a header and one NUL", () => {
    const s = new MinCoreSession(vmlinux);
    const { btf } = s.build();
    s.free();
    expect(Array.from(btf)).toEqual([0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  });
});

const OBJS = ["memleak", "tcptracer", "opensnoop", "bindsnoop", "klockstat", "biolatency", "mountsnoop", "filelife", "biosnoop", "runqslower"];

describe.runIf(HAS_CORPUS && existsSync(join(GOLDEN, "min_core")))("bpftool parity from libbpf's target specs (golden/core)", () => {
  function feed(s: MinCoreSession, obj: string): number {
    const lines = readFileSync(join(GOLDEN, "core/k61-50", `${obj}.bpf.o.tsv`), "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
    let n = 0;
    for (const l of lines) {
      const f = l.split("\t");
      const [kind, status, targBtf, targId, targSpec] = [f[4], f[9], f[12], f[13], f[14]];
      expect(status).not.toBe("error");
      if (targBtf !== "vmlinux") { s.record(kind, 0, 0, []); continue; }
      s.record(kind, 0, Number(targId), targSpec === "-" ? [0] : targSpec.split(":").map(Number));
      n++;
    }
    return n;
  }
  it("each object alone and all ten together are bpftool's bytes", () => {
    const v = Btf.parse(readMaybeGz(join(CORPUS, "k61-50/vmlinux.btf.gz")));
    let checked = 0;
    for (const set of [...OBJS.map((o) => [o]), OBJS]) {
      const s = new MinCoreSession(v);
      for (const o of set) feed(s, o);
      const { btf } = s.build();
      s.free();
      const name = set.length === 1 ? set[0] : "ALL";
      const want = new Uint8Array(readFileSync(join(GOLDEN, "min_core/k61-50", `${name}.btf`)));
      expect(equalBytes(btf, want), `${name}: first difference at byte ${firstDiff(btf, want)}`).toBe(true);
      Btf.parse(btf, { validate: "kernel" }).free();
      checked++;
    }
    console.log(`min-core marks: ${checked} bpftool outputs matched byte for byte`);
    expect(checked).toBe(11);
  });
});

describe("bpftool parity through the CLI (vendored objects and outputs)", () => {
  it("biolatency and memleak on the k61-50 vmlinux are bpftool's bytes, kernel-valid, and round-trip", () => {
    const dir = mkdtempSync(join(tmpdir(), "btfkit-mincore-"));
    for (const [name, objPath] of [["biolatency", "core/corpus/biolatency.bpf.o.gz"], ["memleak", "mincore/bpftool/memleak.bpf.o.gz"]]) {
      const out = join(dir, `${name}.btf`);
      const r = cli(["min-core", fixturePath(objPath), "--kernel", fixturePath("k61-50/vmlinux.btf.gz"), "-o", out]);
      expect(r.code, r.stderr).toBe(0);
      const got = new Uint8Array(readFileSync(out));
      const want = new Uint8Array(readFileSync(fixturePath(`mincore/bpftool/${name}.btf`)));
      expect(equalBytes(got, want), `${name}: first difference at byte ${firstDiff(got, want)}`).toBe(true);
      expect(cli(["info", out, "--validate", "kernel"]).code).toBe(0);
      const rt = join(dir, `${name}.rt.btf`);
      expect(cli(["convert", out, "-o", rt]).code).toBe(0);
      expect(equalBytes(new Uint8Array(readFileSync(rt)), got)).toBe(true);
    }
  });
});
