import { describe, it, expect, beforeAll } from "vitest";
import { init, Btf, BtfBuilder, INT_SIGNED } from "../src/index.js";
import { fixture, equalBytes } from "./helpers.js";

beforeAll(async () => { await init(); });

describe("BtfBuilder", () => {
  it("builds every kind and dumps it as bpftool would", () => {
    const b = new BtfBuilder();
    const int = b.addInt("int", 4, INT_SIGNED);
    const uchar = b.addInt("unsigned char", 1);
    const ptr = b.addPtr(int);
    const arr = b.addArray(uchar, int, 16);
    const s = b.addStruct("pkt", 32); // data (16 bytes at byte 16) ends at 32: the kernel checks member extents
    b.addMember("len", int, 0);
    b.addMember("flags", int, 32, 3);
    b.addMember("next", ptr, 64);
    b.addMember("data", arr, 128);
    const e = b.addEnum("color", 4);
    b.addEnumValue("RED", 0);
    b.addEnumValue("NEG", -1);
    const e64 = b.addEnum64("big", 8, false);
    b.addEnum64Value("HUGE", 0xffffffff00000001n);
    const fwd = b.addFwd("opaque", "union");
    const td = b.addTypedef("pkt_t", s);
    const cv = b.addConst(td);
    const proto = b.addFuncProto(int);
    b.addParam("p", cv);
    b.addParam("", 0);
    const fn = b.addFunc("handle", proto, "global");
    const v = b.addVar("counter", int, "global");
    const ds = b.addDatasec(".bss", 4);
    b.addVarSecInfo(v, 0, 4);
    const fl = b.addFloat("double", 8);
    const dt = b.addDeclTag("bpf_kfunc", fn, -1);
    const tt = b.addTypeTag("user", int);
    expect([int, uchar, ptr, arr, s, e, e64, fwd, td, cv, proto, fn, v, ds, fl, dt, tt]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    expect(b.addStr("int")).toBe(1); // deduplicated
    const btf = b.finish();
    expect(btf.dumpRaw()).toBe([
      "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED",
      "[2] INT 'unsigned char' size=1 bits_offset=0 nr_bits=8 encoding=(none)",
      "[3] PTR '(anon)' type_id=1",
      "[4] ARRAY '(anon)' type_id=2 index_type_id=1 nr_elems=16",
      "[5] STRUCT 'pkt' size=32 vlen=4",
      "\t'len' type_id=1 bits_offset=0",
      "\t'flags' type_id=1 bits_offset=32 bitfield_size=3",
      "\t'next' type_id=3 bits_offset=64",
      "\t'data' type_id=4 bits_offset=128",
      "[6] ENUM 'color' encoding=SIGNED size=4 vlen=2",
      "\t'RED' val=0",
      "\t'NEG' val=-1",
      "[7] ENUM64 'big' encoding=UNSIGNED size=8 vlen=1",
      "\t'HUGE' val=18446744069414584321ULL",
      "[8] FWD 'opaque' fwd_kind=union",
      "[9] TYPEDEF 'pkt_t' type_id=5",
      "[10] CONST '(anon)' type_id=9",
      "[11] FUNC_PROTO '(anon)' ret_type_id=1 vlen=2",
      "\t'p' type_id=10",
      "\t'(anon)' type_id=0",
      "[12] FUNC 'handle' type_id=11 linkage=global",
      "[13] VAR 'counter' type_id=1, linkage=global",
      "[14] DATASEC '.bss' size=4 vlen=1",
      "\ttype_id=13 offset=0 size=4 (VAR 'counter')",
      "[15] FLOAT 'double' size=8",
      "[16] DECL_TAG 'bpf_kfunc' type_id=12 component_idx=-1",
      "[17] TYPE_TAG 'user' type_id=1",
      "",
    ].join("\n"));
    // Views decode what was built.
    const pkt = btf.type(s);
    expect(pkt.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize])).toEqual([["len", 0, 0], ["flags", 32, 3], ["next", 64, 0], ["data", 128, 0]]);
    expect(btf.type(e64).values[0].value).toBe(0xffffffff00000001n);
    expect(btf.type(e).values[1].value).toBe(-1n);
    // Written bytes parse back to the same dump, in both byte orders.
    const le = btf.toBytes();
    const be = btf.toBytes({ endian: "big" });
    expect(equalBytes(Btf.parse(be).toBytes({ endian: "little" }), le)).toBe(true);
    expect(Btf.parse(le).dumpRaw()).toBe(btf.dumpRaw());
    btf.validateKernel();
    btf.free();
  });

  it("builds split BTF whose strings come from the base first", () => {
    const base = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    const b = new BtfBuilder(base);
    const [intId] = base.find("int", "INT");
    const off = b.addStr("sk_buff");
    expect(off).toBe(base.type(base.find("sk_buff", "STRUCT")[0]).nameOff);
    const mine = b.addStr("a_name_only_this_module_has");
    expect(mine).toBeGreaterThanOrEqual(base.header.strLen);
    const t = b.addTypedef("my_int", intId);
    expect(t).toBe(base.typeCount);
    const split = b.finish();
    expect(split.startId).toBe(base.typeCount);
    expect(split.dumpRaw()).toBe(`[${t}] TYPEDEF 'my_int' type_id=${intId}\n`);
    split.free();
    base.free();
  });

  it("rejects members on a type that takes none", () => {
    const b = new BtfBuilder();
    b.addInt("int", 4, INT_SIGNED);
    expect(() => b.addMember("x", 1, 0)).toThrow(/addMember/);
    b.free();
  });
});
