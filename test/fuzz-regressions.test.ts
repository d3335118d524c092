// Findings of the fuzzer, kept as regression tests.
import { describe, it, expect, beforeAll } from "vitest";
import { init, BtfBuilder, INT_SIGNED, BtfError, wasmMemoryBytes } from "../src/index.js";

beforeAll(async () => { await init(); });

describe("fuzz regressions", () => {
  it("C dump of a struct claiming ~4 GiB stops at the output limit (seed=1 case=1121 filled 1.4 GB)", () => {
    const b = new BtfBuilder();
    const int = b.addInt("int", 4, INT_SIGNED);
    // 64 MiB of struct: padding alone would print ~100 MB of `long: 64;` lines.
    b.addStruct("huge", 0x4000000);
    b.addMember("a", int, 0);
    b.addMember("b", int, 0x7ffff8);
    const btf = b.finish();
    const before = wasmMemoryBytes();
    let err: unknown;
    try { btf.dumpCBytes({ bare: true }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(BtfError);
    expect((err as BtfError).code).toBe("TOO_LARGE");
    // Bounded by the limit (16 MiB + 512 B per type), not by the struct's claimed size.
    expect(wasmMemoryBytes() - before).toBeLessThan(64 << 20);
    btf.free();
  });
});
