// Findings of the fuzzer, kept as regression tests. Replay one case with
// `npm run fuzz -- --seed S --case N` (cases before the per-case generators of
// fuzz/run.mjs, like seed=1 case=1121, replay only with the old harness).
import { describe, it, expect, beforeAll } from "vitest";
import { init, BtfBuilder, INT_SIGNED, BtfError, wasmMemoryBytes, unwrap, loadBtf } from "../src/index.js";
// @ts-ignore -- plain ESM helpers shared with the fuzzer
import { zstdRleBomb, zstdRaw } from "../fuzz/wrappers.mjs";
import { fixture } from "./helpers.js";

beforeAll(async () => { await init(); });

describe("fuzz regressions", () => {
  // First in the file (a fresh worker, ~1 MiB of wasm memory): the old code
  // wrote the padding lines up to the 16 MiB output limit before failing,
  // growing memory by that much (and taking 1.4 s on a mutated veth).
  it("C dump of a struct whose padding cannot fit fails before writing it (seed=1 case=335, 1.4 s)", () => {
    const b = new BtfBuilder();
    const int = b.addInt("int", 4, INT_SIGNED);
    // 256 MiB less 16 bytes (its size in bits still fits the C int libbpf
    // computes it in): 33 million `long: 64;` lines of trailing padding.
    b.addStruct("huge", 0x0ffffff0);
    b.addMember("a", int, 0);
    const btf = b.finish();
    const before = wasmMemoryBytes();
    let err: unknown;
    try { btf.dumpCBytes({ bare: true }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(BtfError);
    expect((err as BtfError).code).toBe("TOO_LARGE");
    expect(wasmMemoryBytes() - before).toBeLessThan(4 << 20);
    btf.free();
  });

  it("a zstd frame of RLE blocks without a content size stops at the cap (the wrapped family's zstd-rle-512MiB bomb)", async () => {
    const bomb = zstdRleBomb(4096); // 16 KB that expand to 512 MiB
    expect(bomb.length).toBeLessThan(20_000);
    const before = process.memoryUsage().arrayBuffers;
    const wasmBefore = wasmMemoryBytes();
    let err: unknown;
    try { await unwrap(bomb, { maxSize: 1 << 20 }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(BtfError);
    expect((err as BtfError).code).toBe("TOO_LARGE");
    // One-shot decompress() allocated all 512 MiB first. The decoder now
    // runs in the core, so its growth shows in wasm memory, not on the JS heap.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
    expect(wasmMemoryBytes() - wasmBefore).toBeLessThan(8 << 20);
    // Streaming still decodes what fits, with or without a content size.
    const loop = fixture("k61-50/modules/loop.btf.gz");
    const base = await loadBtf(fixture("k61-50/vmlinux.btf.gz"));
    for (const z of [zstdRaw(loop), zstdRaw(loop, undefined)]) {
      const u = await unwrap(z, { maxSize: 1 << 20 });
      expect(u.layers).toEqual(["zstd"]);
      expect(Buffer.compare(u.bytes, loop)).toBe(0);
      (await loadBtf(z, { base })).free();
    }
    base.free();
  });

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
