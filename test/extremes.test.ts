// Depth and size extremes: a 200,000-long typedef chain, a struct
// whose vlen is at the 24-bit maximum, sections that claim 4 GiB (BTF header
// and ELF sh_size), and 100,000 anonymous structs. Each gives a correct
// result or a clean error: no stack overflow, no trap, memory in proportion
// to the input. Outcomes (counts, exact codes, output lines) are asserted,
// never timings.
import { describe, it, expect, beforeAll } from "vitest";
import {
  init, Btf, BtfBuilder, BtfError, INT_SIGNED, distill, relocate, readElf, elfBtfSections, btfFromElf, wasmMemoryBytes,
} from "../src/index.js";
import { fixture } from "./helpers.js";

beforeAll(async () => { await init(); });

function codeOf(fn: () => unknown): string {
  try { fn(); } catch (e) {
    expect(e).toBeInstanceOf(BtfError);
    return (e as BtfError).code;
  }
  return "ok";
}

function lines(b: Uint8Array): string[] { return new TextDecoder().decode(b).split("\n"); }

describe("a 200,000-long typedef chain", () => {
  const N = 200_000;
  let chain: Btf;
  beforeAll(() => {
    const b = new BtfBuilder();
    let prev = b.addInt("int", 4, INT_SIGNED);
    for (let i = 0; i < N; i++) prev = b.addTypedef(`t${i}`, prev);
    const built = b.finish();
    chain = Btf.parse(built.toBytes());
    built.free();
  });

  it("parses, validates at both levels, and resolves the deepest size", () => {
    expect(chain.typeCount).toBe(N + 2);
    chain.validateKernel(); // the libbpf level ran in parse
    expect(chain.type(2).resolvedSize).toBe(4);
    // btf__resolve_size gives up after MAX_RESOLVE_DEPTH (32) steps with -E2BIG: so do we, without walking 200,000.
    expect(chain.type(N + 1).resolvedSize).toBe(-1);
    expect(chain.type(N + 1).name).toBe(`t${N - 1}`);
  });

  it("dumps raw, JSON and C", () => {
    const raw = lines(chain.dumpRawBytes());
    expect(raw.length).toBe(N + 2); // one line per type and the final newline
    expect(raw[N]).toBe(`[${N + 1}] TYPEDEF 't${N - 1}' type_id=${N}`);
    const json = JSON.parse(new TextDecoder().decode(chain.dumpJsonBytes()));
    expect(json.types.length).toBe(N + 1);
    expect(json.types[N]).toMatchObject({ id: N + 1, kind: "TYPEDEF", name: `t${N - 1}`, type_id: N });
    // Sorting walked every chain anew, quadratically (10 minutes for this one).
    const c = lines(chain.dumpCBytes({ bare: true }));
    expect(c.filter((l) => l.startsWith("typedef ")).length).toBe(N);
    expect(c[0]).toBe("typedef int t0;");
    expect(c).toContain(`typedef t${N - 2} t${N - 1};`);
  });

  it("dedups to itself", () => {
    const d = chain.dedup();
    expect(d.typeCount).toBe(N + 2);
    d.free();
  });

  it("distills a module that needs the deepest typedef, and relocates and dedups it back", () => {
    const sb = new BtfBuilder(chain);
    const s = sb.addStruct("s", 4);
    sb.addMember("x", N + 1, 0);
    const split = sb.finish();
    expect(s).toBe(N + 2);
    const d = distill(split);
    // The distilled base keeps int; every typedef of the chain moves into the split.
    expect(d.base.typeCount).toBe(2);
    expect(d.split.typeCount - d.split.startId).toBe(N + 1);
    const r = relocate(d.split, chain);
    expect(r.btf.startId).toBe(N + 2);
    const back = r.btf.dedup();
    // Relocated onto its own base and deduplicated: the module's one type, pointing at the base's chain again.
    expect(back.typeCount - back.startId).toBe(1);
    expect(back.dumpRawType(back.startId)).toBe(`[${N + 2}] STRUCT 's' size=4 vlen=1\n\t'x' type_id=${N + 1} bits_offset=0\n`);
    for (const b of [back, r.btf, d.split, d.base, split]) b.free();
  });
});

/** Raw BTF with a 32-byte header (the 2026 info profile, 24-bit vlen): int, then struct s with `vlen` members (`present` of them written). */
function wideStruct(vlen: number, present = vlen): Uint8Array {
  const strs = new TextEncoder().encode("\0int\0s\0m\0");
  const typeLen = 16 + 12 + 12 * present;
  const b = new Uint8Array(32 + typeLen + strs.length);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, 0xeb9f, true); b[2] = 1;
  dv.setUint32(4, 32, true); dv.setUint32(12, typeLen, true); dv.setUint32(16, typeLen, true); dv.setUint32(20, strs.length, true);
  let o = 32;
  dv.setUint32(o, 1, true); dv.setUint32(o + 4, 0x01000000, true); dv.setUint32(o + 8, 4, true); dv.setUint32(o + 12, 0x01000020, true); o += 16;
  dv.setUint32(o, 5, true); dv.setUint32(o + 4, ((4 << 24) | vlen) >>> 0, true); dv.setUint32(o + 8, 4 * vlen, true); o += 12;
  for (let i = 0; i < present; i++) { dv.setUint32(o, 7, true); dv.setUint32(o + 4, 1, true); dv.setUint32(o + 8, 32 * i, true); o += 12; }
  b.set(strs, o);
  return b;
}

describe("a struct with vlen at the 24-bit maximum", () => {
  it("claimed but not present: a clean BAD_TYPE_LEN at the struct", () => {
    let err: BtfError | undefined;
    try { Btf.parse(wideStruct(0xffffff, 10)); } catch (e) { err = e as BtfError; }
    expect(err).toBeInstanceOf(BtfError);
    expect(err!.code).toBe("BAD_TYPE_LEN");
    expect(err!.typeId).toBe(2);
  });

  it("present (16,777,215 members, 201 MB): parsed; outputs over the limits fail TOO_LARGE; the 24-byte form is refused", () => {
    const bytes = wideStruct(0xffffff);
    const btf = Btf.parse(bytes);
    try {
      expect(btf.type(2).vlen).toBe(0xffffff);
      expect(btf.type(2).size).toBe(4 * 0xffffff);
      // 617 MB of raw text and more of JSON: over the 512 MiB result cap (was an allocator trap that reset the core).
      expect(codeOf(() => btf.dumpRawBytes())).toBe("TOO_LARGE");
      expect(codeOf(() => btf.dumpJsonBytes())).toBe("TOO_LARGE");
      expect(codeOf(() => btf.dumpCBytes({ bare: true }))).toBe("TOO_LARGE");
      // The handle survived those errors (no core reset).
      expect(btf.type(2).name).toBe("s");
      const again = btf.toBytes();
      expect(again.length).toBe(bytes.length);
      expect(Buffer.compare(again, bytes)).toBe(0);
      // 16 vlen bits cannot hold it (was written with the vlen cut and reserved bits set).
      expect(codeOf(() => btf.toBytes({ header: 24 }))).toBe("UNSUPPORTED");
      const d = btf.dedup();
      expect(d.typeCount).toBe(3);
      expect(d.type(2).vlen).toBe(0xffffff);
      d.free();
      // Memory in proportion: the 201 MB input, its index and one output buffer.
      expect(wasmMemoryBytes()).toBeLessThan(2 * 1024 ** 3);
    } finally {
      btf.free();
    }
  });

  it("the classic maximum (vlen 0xffff) goes through every operation", () => {
    const b = new BtfBuilder();
    const int = b.addInt("int", 4, INT_SIGNED);
    b.addStruct("s", 4 * 0xffff);
    for (let i = 0; i < 0xffff; i++) b.addMember(`m${i}`, int, 32 * i);
    const btf = Btf.parse(b.finish().toBytes());
    btf.validateKernel();
    expect(lines(btf.dumpRawBytes()).length).toBe(2 + 0xffff + 1);
    const c = lines(btf.dumpCBytes({ bare: true }));
    expect(c[0]).toBe("struct s {");
    expect(c[0xffff]).toBe(`\tint m${0xffff - 1};`);
    expect(btf.dedup().typeCount).toBe(3);
    btf.free();
  });
});

describe("sections that claim 4 GiB", () => {
  const small = () => { const b = new BtfBuilder(); b.addInt("int", 4, INT_SIGNED); return b.finish().toBytes(); };
  const withU32 = (off: number, v: number) => { const x = small(); new DataView(x.buffer).setUint32(off, v, true); return x; };
  const err = (bytes: Uint8Array) => { try { Btf.parse(bytes).free(); } catch (e) { return e as BtfError; } throw new Error("accepted"); };

  it("in the BTF header: type_len, str_len, type_off, str_off, hdr_len", () => {
    expect(err(withU32(12, 0xffffffff))).toMatchObject({ code: "BAD_SECTION", offset: 12 });
    expect(err(withU32(20, 0xffffffff))).toMatchObject({ code: "BAD_SECTION", offset: 20 });
    expect(err(withU32(8, 0xfffffff0))).toMatchObject({ code: "BAD_SECTION", offset: 12 });
    expect(err(withU32(16, 0xffffffff))).toMatchObject({ code: "BAD_SECTION", offset: 20 });
    expect(err(withU32(4, 0xffffffff))).toMatchObject({ code: "TRUNCATED" });
  });

  it("in an ELF section header: .BTF sh_size and sh_offset of 4 GiB and 2^64-1", () => {
    const ko = fixture("k61-50/ko/tcp_bbr.ko.gz");
    const btf = readElf(ko).sections.find((s) => s.name === ".BTF")!;
    const shoff = Number(new DataView(ko.buffer, ko.byteOffset).getBigUint64(0x28, true));
    const hdr = shoff + btf.index * 64;
    const set = (field: number, v: bigint) => { const x = ko.slice(); new DataView(x.buffer).setBigUint64(hdr + field, v, true); return x; };
    for (const [field, v] of [[32, 2n ** 32n], [32, 2n ** 32n - 1n], [32, 2n ** 64n - 1n], [24, 2n ** 32n]] as const) {
      const x = set(field, v);
      for (const fn of [() => readElf(x), () => elfBtfSections(x), () => btfFromElf(x, {})]) {
        let e: unknown;
        try { fn(); } catch (ee) { e = ee; }
        expect(e, `field ${field} = ${v}`).toBeInstanceOf(BtfError);
        // The error points at the section header's offset or size field.
        expect(e).toMatchObject({ code: "BAD_ELF", offset: hdr + field });
      }
    }
  });
});

describe("100,000 anonymous structs", () => {
  const N = 100_000;
  it("in a split module: every operation, with exact counts", () => {
    const bb = new BtfBuilder();
    const int = bb.addInt("int", 4, INT_SIGNED);
    const base = Btf.parse(bb.finish().toBytes());
    const b = new BtfBuilder(base);
    for (let i = 0; i < N; i++) { b.addStruct("", 4); b.addMember("x", int, 0); }
    const split = Btf.parse(b.finish().toBytes(), { base });
    expect(split.typeCount).toBe(N + 2);
    split.validateKernel();
    const raw = lines(split.dumpRawBytes());
    expect(raw.length).toBe(2 * N + 1);
    expect(raw[2 * N - 2]).toBe(`[${N + 1}] STRUCT '(anon)' size=4 vlen=1`);
    const json = JSON.parse(new TextDecoder().decode(split.dumpJsonBytes()));
    expect(json.types.length).toBe(N);
    // libbpf's btf_dump_order_type queues a struct only when it is named:
    // an anonymous one is printed inside whatever uses it, and these are unused.
    expect(split.dumpCBytes({ bare: true }).length).toBe(0);
    // All the same shape: dedup keeps one.
    const d = split.dedup();
    expect(d.typeCount - d.startId).toBe(1);
    const ds = distill(split);
    expect(ds.base.typeCount).toBe(2);
    expect(ds.split.typeCount - ds.split.startId).toBe(N);
    const r = relocate(ds.split, base);
    expect(r.btf.typeCount).toBe(N + 2);
    const rd = r.btf.dedup();
    expect(rd.typeCount - rd.startId).toBe(1);
    for (const x of [rd, r.btf, ds.split, ds.base, d, split, base]) x.free();
  });
});
