import { describe, it, expect, beforeAll } from "vitest";
import { gzipSync } from "node:zlib";
import { init, loadBtf, loadBtfSync, sniff, unwrap, Btf, BtfError } from "../src/index.js";
import { fixture, fixtureExists, equalBytes, cli, fixturePath } from "./helpers.js";

beforeAll(async () => { await init(); });

const loopRaw = () => fixture("k61-50/modules/loop.btf.gz");

describe("input sniffing and unwrapping", () => {
  it("recognises each wrapper by content", () => {
    expect(sniff(loopRaw())).toBe("btf");
    expect(sniff(fixture("wrapped/loop.btf.xz"))).toBe("xz");
    expect(sniff(fixture("wrapped/loop.btf.zst"))).toBe("zstd");
    expect(sniff(fixture("wrapped/loop.btf.lz4"))).toBe("lz4");
    expect(sniff(fixture("wrapped/fake-bzimage-loop.bin"))).toBe("bzimage");
    expect(sniff(new Uint8Array([0x1f, 0x8b, 8, 0]))).toBe("gzip");
    expect(sniff(new Uint8Array([0x7f, 0x45, 0x4c, 0x46]))).toBe("elf");
    expect(sniff(new Uint8Array([1, 2, 3, 4]))).toBe("unknown");
  });

  for (const [name, layers] of [
    ["wrapped/loop.btf.xz", ["xz"]],
    ["wrapped/loop.btf.crc64.xz", ["xz"]],
    ["wrapped/loop.btf.zst", ["zstd"]],
    ["wrapped/loop.btf.lz4", ["lz4"]],
    ["wrapped/fake-bzimage-loop.bin", ["bzimage", "xz"]],
  ] as const) {
    it(`unwraps ${name} to the original bytes`, async () => {
      const u = await unwrap(fixture(name));
      expect(u.layers).toEqual(layers);
      expect(equalBytes(u.bytes, loopRaw())).toBe(true);
    });
  }

  it("loads a module through every wrapper onto its base, synchronously where possible", async () => {
    const base = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    const want = Btf.parse(loopRaw(), { base }).dumpRaw();
    for (const f of ["wrapped/loop.btf.xz", "wrapped/loop.btf.zst", "wrapped/loop.btf.lz4", "wrapped/fake-bzimage-loop.bin"]) {
      const m = await loadBtf(fixture(f), { base });
      expect(m.dumpRaw(), f).toBe(want);
      expect(m.source?.layers.length).toBeGreaterThan(0);
      m.free();
    }
    const z = loadBtfSync(fixture("wrapped/loop.btf.zst"), { base });
    expect(z.dumpRaw()).toBe(want);
    // xz is decoded by the core too, so the synchronous path takes it.
    const x = loadBtfSync(fixture("wrapped/loop.btf.xz"), { base });
    expect(x.dumpRaw()).toBe(want);
    x.free();
    base.free();
  });

  it("caps decompression: a gzip bomb stops at the cap with TOO_LARGE", async () => {
    const bomb = gzipSync(new Uint8Array(64 << 20)); // 64 MiB of zeros in ~64 KiB
    expect(bomb.length).toBeLessThan(200_000);
    const before = process.memoryUsage().arrayBuffers;
    const err = await loadBtf(new Uint8Array(bomb), { maxSize: 1 << 20 }).catch((e) => e);
    expect(err).toBeInstanceOf(BtfError);
    expect((err as BtfError).code).toBe("TOO_LARGE");
    // It stopped near the cap instead of inflating all 64 MiB.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 << 20);
  });

  it("rejects truncated and corrupt compressed data with BAD_COMPRESSED", async () => {
    for (const f of ["wrapped/loop.btf.xz", "wrapped/loop.btf.zst", "wrapped/loop.btf.lz4"]) {
      const b = fixture(f);
      const err = await loadBtf(b.subarray(0, b.length >> 1)).catch((e) => e);
      expect(err, f).toBeInstanceOf(BtfError);
      expect(["BAD_COMPRESSED", "TRUNCATED", "BAD_MAGIC", "BAD_SECTION", "BAD_TYPE_LEN", "BAD_STRINGS"], `${f}: ${(err as BtfError).message}`).toContain((err as BtfError).code);
    }
    const gz = gzipSync(loopRaw());
    const err = await loadBtf(new Uint8Array(gz.subarray(0, gz.length - 10))).catch((e) => e);
    expect((err as BtfError).code).toBe("BAD_COMPRESSED");
  });

  it("the CLI reads every wrapper and says what it peeled", () => {
    expect(fixtureExists("wrapped/fake-bzimage-loop.bin")).toBe(true);
    const r = cli(["info", fixturePath("wrapped/fake-bzimage-loop.bin"), "--base", fixturePath("k61-50/vmlinux.btf.gz"), "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout.toString());
    expect(j.layers).toEqual(["bzimage", "xz"]);
    expect(j.split).toBe(true);
    expect(j.start_id).toBe(100643);
  });
});
