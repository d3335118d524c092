// The core's xz decoder (assembly/xz.ts, assembly/lzma.ts) through src/input.ts:
//  - vendored .xz fixtures (scripts/make-xz-fixtures.sh) against their
//    originals, which are derived from other fixtures, or, for the x86 BCJ
//    cases (the first 256 KiB of a node binary), checked by sha256 only;
//  - differential runs against the xz CLI when it is installed (presets,
//    checks, BCJ with LZMA2 options, blocks, -T2, concatenation, padding,
//    edge inputs, every vendored BTF fixture);
//  - the Debian 6.1 kernel (bzImage, xz with BCJ) when it is cached;
//  - truncations, byte flips and a bomb: typed errors, never a trap.
import { describe, it, expect, beforeAll } from "vitest";
import { existsSync, readFileSync, writeFileSync, mkdtempSync, rmSync, readdirSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { tmpdir, homedir } from "node:os";
import { init, BtfError, unwrap, unwrapSync, loadBtfSync, wasmMemoryBytes } from "../src/index.js";
import { unxzCapped, bzImagePayload, DEFAULT_MAX_DECOMPRESSED } from "../src/input.js";
import { fixture, FIXTURES, SHARED } from "./helpers.js";

const XDIR = join(FIXTURES, "xz");
const XZ_CLI = ["/usr/bin/xz", "/usr/local/bin/xz", "/bin/xz"].find((p) => existsSync(p));

beforeAll(async () => { await init(); });

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const decode = (b: Uint8Array, max = DEFAULT_MAX_DECOMPRESSED) => unxzCapped(b, max);
const read = (name: string) => new Uint8Array(readFileSync(join(XDIR, name)));

/** The originals named in MANIFEST.tsv (null: not committed, sha256 only); keep in sync with scripts/make-xz-fixtures.sh. */
function originalBytes(name: string): Uint8Array | null {
  switch (name) {
    case "bridge": return fixture("k61-50/modules/bridge.btf.gz");
    case "vmlinux300k": return fixture("k61-50/vmlinux.btf.gz").subarray(0, 300000);
    case "zeros": return new Uint8Array(100000);
    case "random": return new Uint8Array(readFileSync(join(FIXTURES, "zstd/random.bin")));
    case "empty": return new Uint8Array(0);
    case "node256k": return null;
    case "multi": {
      const a = originalBytes("bridge")!, b = originalBytes("random")!;
      const m = new Uint8Array(a.length + b.length);
      m.set(a); m.set(b, a.length);
      return m;
    }
    case "bomb16m": return new Uint8Array(16 << 20);
  }
  throw new Error(`unknown original ${name}`);
}

const manifest = readFileSync(join(XDIR, "MANIFEST.tsv"), "utf8").trim().split("\n").map((l) => {
  const [xz, orig, hash] = l.split("\t");
  return { xz, orig, hash };
});

function decodeError(b: Uint8Array, max = DEFAULT_MAX_DECOMPRESSED): { err: unknown; out?: Uint8Array } {
  try { return { err: null, out: decode(b, max) }; } catch (e) { return { err: e }; }
}

function expectTypedFailure(err: unknown, what: string): void {
  if (!(err instanceof BtfError)) throw new Error(`${what}: not a BtfError: ${err}`);
  if (err.code !== "BAD_COMPRESSED" && err.code !== "TOO_LARGE") throw new Error(`${what}: ${err.code}: ${err.message}`);
}

describe("xz: vendored fixtures", () => {
  it("the manifest lists every fixture and the committed originals hash as recorded", () => {
    const files = readdirSync(XDIR).filter((f) => f.endsWith(".xz")).sort();
    expect(manifest.map((m) => m.xz).sort()).toEqual(files);
    for (const m of manifest) {
      const o = originalBytes(m.orig);
      if (o) expect(sha256(o), m.orig).toBe(m.hash);
    }
  });

  for (const m of manifest) {
    it(`${m.xz} decodes to ${m.orig}`, () => {
      const out = decode(read(m.xz));
      const o = originalBytes(m.orig);
      if (o) expect(out.length).toBe(o.length);
      expect(sha256(out)).toBe(m.hash);
    });
  }

  it("the BCJ fixture really needs the x86 filter (dropping it from the chain fails the CRC32)", () => {
    const x = read("node256k-x86.xz").slice();
    const hsize = (x[12] + 1) * 4;
    // Header: size, flags (2 filters), x86 (04 00), LZMA2 (21 01 dict), padding, CRC32.
    expect([x[13], x[14], x[15], x[16], x[17]]).toEqual([0x01, 0x04, 0x00, 0x21, 0x01]);
    const dict = x[18];
    const h = new Uint8Array(hsize - 4);
    h.set([x[12], 0x00, 0x21, 0x01, dict]);
    x.set(h, 12);
    new DataView(x.buffer).setUint32(12 + hsize - 4, crc32(h), true);
    expect((decodeError(x).err as BtfError).message).toMatch(/block CRC32 mismatch/);
  });

  it("a bomb with no declared size stops at the cap with TOO_LARGE, in bounded memory", () => {
    const bomb = read("bomb16m.xz");
    const before = wasmMemoryBytes();
    const { err } = decodeError(bomb, 1 << 20);
    expect(err).toBeInstanceOf(BtfError);
    expect((err as BtfError).code).toBe("TOO_LARGE");
    // The buffer grows to the 1 MiB cap, never towards 16 MiB.
    expect(wasmMemoryBytes() - before).toBeLessThan(4 << 20);
  });

  it("a block header's declared size over the cap is refused before allocating", () => {
    const x = read("vmlinux300k-T2.xz"); // -T2 writes sizes into block headers
    const before = wasmMemoryBytes();
    const err = decodeError(x, 1000).err as BtfError;
    expect(err.code).toBe("TOO_LARGE");
    expect(wasmMemoryBytes()).toBe(before);
    expect(decode(x, 300000).length).toBe(300000);
    expect((decodeError(x, 299999).err as BtfError).code).toBe("TOO_LARGE");
  });

  it("a total over the cap declared only by the index is refused before allocating", () => {
    const x = read("vmlinux300k-blocks.xz"); // single-threaded: no sizes in block headers
    expect(x[13] & 0xc0).toBe(0);
    const before = wasmMemoryBytes();
    const err = decodeError(x, 299999).err as BtfError;
    expect(err.code).toBe("TOO_LARGE");
    expect(err.offset).toBeGreaterThan(x.length - 200); // at the last index
    expect(wasmMemoryBytes()).toBe(before);
    expect(decode(x, 300000).length).toBe(300000);
  });

  it("an implausible size hint is not allocated up front", () => {
    const x = read("bridge-6.xz");
    const before = wasmMemoryBytes();
    const out = unxzCapped(x, DEFAULT_MAX_DECOMPRESSED, 400e6);
    expect(out.length).toBe(originalBytes("bridge")!.length);
    expect(wasmMemoryBytes() - before).toBeLessThan(4 << 20);
  });

  it("refuses other filters, reserved check types and trailing garbage with BAD_COMPRESSED", () => {
    // The x86 filter id (0x04) in the block header turned into ARM (0x07), header CRC32 fixed.
    const x = read("node256k-x86.xz").slice();
    const hsize = (x[12] + 1) * 4;
    expect(x[14]).toBe(0x04);
    x[14] = 0x07;
    new DataView(x.buffer).setUint32(12 + hsize - 4, crc32(x.subarray(12, 12 + hsize - 4)), true);
    const f = decodeError(x).err as BtfError;
    expect(f.code).toBe("BAD_COMPRESSED");
    expect(f.message).toContain("xz: filter 0x7 not supported");

    const c = read("bridge-6.xz").slice();
    c[7] = 0x02; // check type 2 (reserved), header CRC32 fixed
    new DataView(c.buffer).setUint32(8, crc32(c.subarray(6, 8)), true);
    expect((decodeError(c).err as BtfError).message).toMatch(/check type 2 not supported/);

    const b = read("bridge-6.xz");
    const trailing = new Uint8Array(b.length + 3);
    trailing.set(b);
    expect((decodeError(trailing).err as BtfError).message).toMatch(/padding/);
    const garbage = new Uint8Array(b.length + 4).fill(7);
    garbage.set(b);
    expect((decodeError(garbage).err as BtfError).code).toBe("BAD_COMPRESSED");
  });

  it("check mismatches are caught (CRC32, CRC64, SHA-256) and the index is verified", () => {
    for (const name of ["bridge-crc32.xz", "bridge-6.xz", "bridge-sha256.xz"]) {
      const x = read(name).slice();
      // The check sits right before the index; find it from the footer's backward size.
      const dv = new DataView(x.buffer);
      const indexSize = (dv.getUint32(x.length - 8, true) + 1) * 4;
      const idx = x.length - 12 - indexSize;
      x[idx - 1] ^= 0x10;
      expect((decodeError(x).err as BtfError).message, name).toMatch(/CRC32 mismatch|CRC64 mismatch|SHA-256 mismatch/);
    }
  });

  it("every truncation of a small file fails with a typed error", () => {
    const x = read("bridge-6.xz");
    let n = 0;
    for (let len = 0; len < x.length; len++) {
      const { err } = decodeError(x.subarray(0, len));
      expectTypedFailure(err, `truncated at ${len}`);
      if (len > 12) expect((err as BtfError).offset, `offset at ${len}`).toBeGreaterThanOrEqual(0);
      n++;
    }
    console.log(`xz: ${n} truncations of bridge-6.xz, all BAD_COMPRESSED/TOO_LARGE`);
  });

  it("random byte flips never trap; a checked stream that still decodes gives the original", () => {
    const orig = originalBytes("bridge")!;
    let failed = 0, decoded = 0;
    for (const name of ["bridge-6.xz", "bridge-none.xz", "vmlinux300k-T2.xz", "node256k-x86.xz", "random-6.xz"]) {
      const x = read(name);
      let seed = 4242;
      const rnd = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed; };
      const rounds = name === "bridge-6.xz" || name === "bridge-none.xz" ? 1000 : 300;
      for (let i = 0; i < rounds; i++) {
        const c = x.slice();
        const flips = 1 + (rnd() % 3);
        for (let k = 0; k < flips; k++) c[rnd() % c.length] ^= 1 << (rnd() % 8);
        const { err, out } = decodeError(c, 4 << 20);
        if (err) { expectTypedFailure(err, `${name} flip round ${i}`); failed++; continue; }
        decoded++;
        if (name === "bridge-6.xz") expect(sha256(out!)).toBe(sha256(orig));
      }
    }
    console.log(`xz: byte flips: ${failed} typed failures, ${decoded} still decoded`);
    expect(failed).toBeGreaterThan(2000);
  });
});

/** CRC32 (IEEE), for re-sealing edited headers in the tests above. */
function crc32(b: Uint8Array): number {
  let c = ~0;
  for (const x of b) { c ^= x; for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1)); }
  return ~c >>> 0;
}

describe.skipIf(!XZ_CLI)("xz: differential against the xz CLI", () => {
  let dir = "";
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), "btfkit-xz-")); return () => rmSync(dir, { recursive: true, force: true }); });

  function compress(input: Uint8Array, args: string[]): Uint8Array {
    const r = spawnSync(XZ_CLI!, ["-q", "-c", ...args], { input, maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`xz ${args.join(" ")}: ${r.stderr}`);
    return new Uint8Array(r.stdout);
  }

  const vmlinux = () => fixture("k61-50/vmlinux.btf.gz");
  const slice1m = () => vmlinux().subarray(0, 1 << 20);
  const nodeBin = () => new Uint8Array(readFileSync(process.execPath)).subarray(0, 3 << 20);
  let seed = 99;
  const random = (n: number) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; b[i] = seed & 255; }
    return b;
  };
  const cases: [string, () => Uint8Array, string[]][] = [
    ["vmlinux BTF -0", vmlinux, ["-0"]],
    ["vmlinux BTF -6", vmlinux, ["-6"]],
    ["1 MiB -9e", slice1m, ["-9e"]],
    ["1 MiB --check=none", slice1m, ["--check=none"]],
    ["1 MiB --check=crc32", slice1m, ["--check=crc32"]],
    ["1 MiB --check=crc64", slice1m, ["--check=crc64"]],
    ["1 MiB --check=sha256", slice1m, ["--check=sha256"]],
    ["1 MiB multi-block --block-size=65536", slice1m, ["-T1", "--block-size=65536"]],
    ["vmlinux BTF -T2 multi-block", vmlinux, ["-T2", "-3", "--block-size=500000"]],
    ["node 3 MiB --x86 --lzma2 (kernel style)", nodeBin, ["--check=crc32", "--x86", "--lzma2=preset=6,dict=32MiB"]],
    ["node 3 MiB --x86=start=0x10000 --lzma2=lc=2,lp=2,pb=1", nodeBin, ["--x86=start=65536", "--lzma2=preset=6,lc=2,lp=2,pb=1"]],
    ["node 3 MiB --x86 -T2 blocks", nodeBin, ["--x86", "--lzma2=preset=2", "-T2", "--block-size=400000"]],
    ["node 3 MiB --x86 --x86 (two BCJ filters)", nodeBin, ["--x86", "--x86", "--lzma2=preset=1"]],
    ["1 MiB --lzma2=nice=273,mf=bt4,depth=0", slice1m, ["--lzma2=preset=9,nice=273,mf=bt4"]],
    ["1 MiB --lzma2=mode=fast,mf=hc3", slice1m, ["--lzma2=preset=1,mode=fast,mf=hc3"]],
    ["empty", () => new Uint8Array(0), ["-6"]],
    ["one byte", () => new Uint8Array([42]), ["-9"]],
    ["incompressible 300 KiB", () => random(300 << 10), ["-6"]],
    ["incompressible 3 MiB (uncompressed chunks, several dictionary sizes)", () => random(3 << 20), ["-1"]],
    ["RLE 2 MiB of 0xaa", () => new Uint8Array(2 << 20).fill(0xaa), ["-9"]],
    ["short periods", () => { const b = new Uint8Array(500000); for (let i = 0; i < b.length; i++) b[i] = "abcdefg"[i % 7].charCodeAt(0) ^ (i % 5000 === 0 ? 1 : 0); return b; }, ["-9"]],
  ];
  for (const [name, make, args] of cases) {
    it(name, () => {
      const input = make();
      const z = compress(input, args);
      const out = decode(z);
      expect(out.length).toBe(input.length);
      expect(sha256(out)).toBe(sha256(input));
    });
  }

  it("concatenated streams with stream padding decode to the concatenation", () => {
    const a = slice1m(), b = random(50000);
    const za = compress(a, ["-6"]), zb = compress(b, ["-1", "--check=none"]);
    const cat = new Uint8Array(za.length + 4 + zb.length + 12 + za.length + 8);
    cat.set(za); cat.set(zb, za.length + 4); cat.set(za, za.length + 4 + zb.length + 12);
    const out = decode(cat);
    expect(out.length).toBe(2 * a.length + b.length);
    expect(sha256(out.subarray(a.length, a.length + b.length))).toBe(sha256(b));
    expect(sha256(out.subarray(a.length + b.length))).toBe(sha256(a));
  });

  it("every vendored fixture blob, compressed by the CLI", () => {
    const blobs: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) { if (f !== "zstd" && f !== "xz") walk(p); } else if (p.endsWith(".gz")) blobs.push(p);
      }
    };
    walk(FIXTURES);
    let n = 0;
    for (const p of blobs) {
      const input = fixture(p.slice(FIXTURES.length + 1));
      const out = decode(compress(input, ["-3", "-T1"]));
      if (sha256(out) !== sha256(input)) throw new Error(`${p}: decoded bytes differ`);
      n++;
    }
    console.log(`xz: ${n} vendored fixture blobs round-tripped through the CLI at -3`);
    expect(n).toBe(blobs.length);
  }, 120_000);
});

// Debian's 6.1.0-50 vmlinuz as scripts/fetch-scale-corpus.sh extracts it (the
// vendored BCJ fixtures above cover xz --x86 where it has not been fetched).
const SCALE_DIR = process.env.BTFKIT_SCALE_DIR ?? join(homedir(), ".cache/btfkit/scale");
const VMLINUZ = [join(SCALE_DIR, "x/k61-50/boot/vmlinuz-6.1.0-50-amd64")].find((p) => existsSync(p));
const EXPECT = join(SHARED, "corpus/k61-50/vmlinux.btf.gz");
describe("xz: the Debian 6.1 kernel (bzImage, xz --x86 --lzma2)", () => {
  it("converts to the corpus vmlinux BTF byte for byte; time and wasm memory reported", () => {
    if (!VMLINUZ || !existsSync(EXPECT)) {
      console.log(`xz: no Debian 6.1 vmlinuz under ${SCALE_DIR} (scripts/fetch-scale-corpus.sh) or no corpus; real-kernel case skipped`);
      return;
    }
    const file = new Uint8Array(readFileSync(VMLINUZ));
    const t0 = performance.now();
    const u = unwrapSync(file);
    const ms = performance.now() - t0;
    expect(u.layers).toEqual(["bzimage", "xz"]);
    // As `btfkit convert vmlinuz -o vmlinux.btf` writes it.
    const btf = loadBtfSync(file);
    expect(sha256(btf.toBytes())).toBe(sha256(gunzip(EXPECT)));
    btf.free();
    const { payload } = bzImagePayload(file);
    console.log(`xz: vmlinuz payload ${payload.length} -> ${u.bytes.length} bytes in ${ms.toFixed(0)} ms (first decode in this process, copies included); wasm memory ${(wasmMemoryBytes() / 1048576).toFixed(1)} MiB`);
  }, 60_000);
});

function gunzip(p: string): Uint8Array {
  return new Uint8Array(spawnSync("gunzip", ["-c", p], { maxBuffer: 1 << 30 }).stdout);
}

describe("xz: wiring", () => {
  it("unwrap(), unwrapSync() and loadBtfSync() go through the core for .xz input", async () => {
    const x = fixture("wrapped/loop.btf.xz");
    const u = await unwrap(x);
    expect(u.layers).toEqual(["xz"]);
    expect(unwrapSync(x).bytes).toEqual(u.bytes);
    const base = loadBtfSync(fixture("k61-50/vmlinux.btf.gz"));
    const b = loadBtfSync(x, { base });
    expect(b.source?.layers).toEqual(["xz"]);
    b.free(); base.free();
  });
});
