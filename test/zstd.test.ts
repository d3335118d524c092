// The core's zstd decoder (assembly/zstd.ts) through src/input.ts:
//  - vendored .zst fixtures (scripts/make-zstd-fixtures.sh) against their
//    originals, which are derived from other fixtures or committed;
//  - differential runs against the zstd CLI when it is installed (levels,
//    long windows, small blocks, checksums, content sizes, multi-frame,
//    edge inputs, every vendored BTF fixture, the corpus when present);
//  - truncations, byte flips and a bomb: typed errors, never a trap.
import { describe, it, expect, beforeAll } from "vitest";
import { existsSync, readFileSync, writeFileSync, mkdtempSync, rmSync, readdirSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { tmpdir, homedir } from "node:os";
import { init, BtfError, unwrap, unwrapSync, loadBtfSync, wasmMemoryBytes } from "../src/index.js";
import { unzstdCapped, bzImagePayload, DEFAULT_MAX_DECOMPRESSED } from "../src/input.js";
import { fixture, FIXTURES, HAS_CORPUS, CORPUS } from "./helpers.js";

const ZDIR = join(FIXTURES, "zstd");
const ZSTD_CLI = ["/usr/bin/zstd", "/usr/local/bin/zstd"].find((p) => existsSync(p));

beforeAll(async () => { await init(); });

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const decode = (b: Uint8Array, max = DEFAULT_MAX_DECOMPRESSED) => unzstdCapped(b, max);

/** The originals named in MANIFEST.tsv; keep in sync with scripts/make-zstd-fixtures.sh. */
function originalBytes(name: string): Uint8Array {
  switch (name) {
    case "bridge": return fixture("k61-50/modules/bridge.btf.gz");
    case "vmlinux300k": return fixture("k61-50/vmlinux.btf.gz").subarray(0, 300000);
    case "zeros": return new Uint8Array(100000);
    case "random": return new Uint8Array(readFileSync(join(ZDIR, "random.bin")));
    case "empty": return new Uint8Array(0);
    case "multi": {
      const a = originalBytes("bridge"), b = originalBytes("random");
      const m = new Uint8Array(a.length + b.length);
      m.set(a); m.set(b, a.length);
      return m;
    }
    case "bomb16m": return new Uint8Array(16 << 20);
  }
  throw new Error(`unknown original ${name}`);
}

const manifest = readFileSync(join(ZDIR, "MANIFEST.tsv"), "utf8").trim().split("\n").map((l) => {
  const [zst, orig, hash] = l.split("\t");
  return { zst, orig, hash };
});

/** The error a failing decode throws (or null when it decodes). */
function decodeError(b: Uint8Array, max = DEFAULT_MAX_DECOMPRESSED): { err: unknown; out?: Uint8Array } {
  try { return { err: null, out: decode(b, max) }; } catch (e) { return { err: e }; }
}

function expectTypedFailure(err: unknown, what: string): void {
  if (!(err instanceof BtfError)) throw new Error(`${what}: not a BtfError: ${err}`);
  if (err.code !== "BAD_COMPRESSED" && err.code !== "TOO_LARGE") throw new Error(`${what}: ${err.code}: ${err.message}`);
}

describe("zstd: vendored fixtures", () => {
  it("the manifest lists every fixture and the originals hash as recorded", () => {
    const files = readdirSync(ZDIR).filter((f) => f.endsWith(".zst")).sort();
    expect(manifest.map((m) => m.zst).sort()).toEqual(files);
    for (const m of manifest) expect(sha256(originalBytes(m.orig)), m.orig).toBe(m.hash);
  });

  for (const m of manifest) {
    it(`${m.zst} decodes to ${m.orig}`, () => {
      const out = decode(new Uint8Array(readFileSync(join(ZDIR, m.zst))));
      expect(out.length).toBe(originalBytes(m.orig).length);
      expect(sha256(out)).toBe(m.hash);
    });
  }

  it("a bomb with no declared size stops at the cap with TOO_LARGE, in bounded memory", () => {
    const bomb = new Uint8Array(readFileSync(join(ZDIR, "bomb16m.zst")));
    const before = wasmMemoryBytes();
    const { err } = decodeError(bomb, 1 << 20);
    expect(err).toBeInstanceOf(BtfError);
    expect((err as BtfError).code).toBe("TOO_LARGE");
    // The buffer grows to the 1 MiB cap (plus a block), never towards 16 MiB.
    expect(wasmMemoryBytes() - before).toBeLessThan(4 << 20);
  });

  it("a declared content size over the cap is refused before allocating", () => {
    const z = new Uint8Array(readFileSync(join(ZDIR, "vmlinux300k-3.zst")));
    const before = wasmMemoryBytes();
    const { err } = decodeError(z, 1000);
    expect((err as BtfError).code).toBe("TOO_LARGE");
    expect(wasmMemoryBytes()).toBe(before);
    // Exactly at the cap is allowed.
    expect(decode(z, 300000).length).toBe(300000);
  });

  it("an implausible declared size (400 MB in 23 bytes) is not allocated up front", () => {
    const f = new Uint8Array(4 + 1 + 4 + 3 + 10);
    f.set([0x28, 0xb5, 0x2f, 0xfd, 0xa0]); // single segment, 4-byte content size
    new DataView(f.buffer).setUint32(5, 400e6, true);
    f.set([(10 << 3) | 1, 0, 0], 9); // last raw block of 10 bytes
    const before = wasmMemoryBytes();
    const err = decodeError(f).err as BtfError;
    expect(err.code).toBe("BAD_COMPRESSED");
    expect(err.message).toMatch(/content size/);
    expect(wasmMemoryBytes() - before).toBeLessThan(4 << 20);
  });

  it("refuses dictionaries, reserved bits and trailing garbage with BAD_COMPRESSED", () => {
    const z = new Uint8Array(readFileSync(join(ZDIR, "bridge-1.zst")));
    // Dictionary id flag = 1 with a non-zero id byte inserted after the descriptor.
    const fhd = z[4];
    const withDict = new Uint8Array(z.length + 1);
    withDict.set(z.subarray(0, 4));
    withDict[4] = (fhd & ~3) | 1;
    const hdrRest = (fhd & 0x20) ? 0 : 1; // window descriptor byte
    withDict.set(z.subarray(5, 5 + hdrRest), 5);
    withDict[5 + hdrRest] = 7;
    withDict.set(z.subarray(5 + hdrRest), 6 + hdrRest);
    const d = decodeError(withDict).err as BtfError;
    expect(d.code).toBe("BAD_COMPRESSED");
    expect(d.message).toContain("zstd dictionary not supported");

    const reserved = z.slice();
    reserved[4] |= 8;
    expect((decodeError(reserved).err as BtfError).code).toBe("BAD_COMPRESSED");

    const trailing = new Uint8Array(z.length + 3);
    trailing.set(z);
    expect((decodeError(trailing).err as BtfError).message).toMatch(/trailing/);
  });

  it("a content checksum mismatch is caught", () => {
    const z = new Uint8Array(readFileSync(join(ZDIR, "bridge-19.zst"))).slice();
    z[z.length - 1] ^= 0x40;
    expect((decodeError(z).err as BtfError).message).toMatch(/checksum/);
  });

  it("every truncation of a small frame fails with a typed error", () => {
    const z = new Uint8Array(readFileSync(join(ZDIR, "bridge-19.zst")));
    let n = 0;
    for (let len = 0; len < z.length; len++) {
      const { err } = decodeError(z.subarray(0, len));
      expectTypedFailure(err, `truncated at ${len}`);
      n++;
    }
    console.log(`zstd: ${n} truncations of bridge-19.zst, all BAD_COMPRESSED/TOO_LARGE`);
  });

  it("random byte flips never trap; a checksummed frame that still decodes gives the original", () => {
    const orig = originalBytes("bridge");
    let failed = 0, decoded = 0;
    for (const name of ["bridge-19.zst", "bridge-smallblocks.zst", "vmlinux300k-3.zst", "bridge-nocheck.zst"]) {
      const z = new Uint8Array(readFileSync(join(ZDIR, name)));
      let seed = 12345;
      const rnd = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed; };
      const rounds = name === "vmlinux300k-3.zst" ? 300 : 1000;
      for (let i = 0; i < rounds; i++) {
        const c = z.slice();
        const flips = 1 + (rnd() % 3);
        for (let k = 0; k < flips; k++) c[rnd() % c.length] ^= 1 << (rnd() % 8);
        const { err, out } = decodeError(c, 4 << 20);
        if (err) { expectTypedFailure(err, `${name} flip round ${i}`); failed++; continue; }
        decoded++;
        if (name.startsWith("bridge") && name !== "bridge-nocheck.zst") expect(sha256(out!)).toBe(sha256(orig));
      }
    }
    console.log(`zstd: byte flips: ${failed} typed failures, ${decoded} still decoded`);
    expect(failed).toBeGreaterThan(2000);
  });
});

describe.skipIf(!ZSTD_CLI)("zstd: differential against the zstd CLI", () => {
  let dir = "";
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), "btfkit-zstd-")); return () => rmSync(dir, { recursive: true, force: true }); });

  function compress(input: Uint8Array, args: string[], viaStdin = false): Uint8Array {
    const src = join(dir, "in");
    writeFileSync(src, input);
    const r = viaStdin
      ? spawnSync(ZSTD_CLI!, ["-q", "-c", ...args], { input, maxBuffer: 1 << 30 })
      : spawnSync(ZSTD_CLI!, ["-q", "-c", ...args, src], { maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`zstd ${args.join(" ")}: ${r.stderr}`);
    return new Uint8Array(r.stdout);
  }

  const vmlinux = () => fixture("k61-50/vmlinux.btf.gz");
  const slice1m = () => vmlinux().subarray(0, 1 << 20);
  let seed = 99;
  const random = (n: number) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; b[i] = seed & 255; }
    return b;
  };
  const cases: [string, () => Uint8Array, string[], boolean?][] = [
    ["vmlinux BTF -1", vmlinux, ["-1"]],
    ["vmlinux BTF -3", vmlinux, ["-3"]],
    ["vmlinux BTF -3 --long=27", vmlinux, ["-3", "--long=27"]],
    ["vmlinux BTF --no-check", vmlinux, ["-3", "--no-check"]],
    ["vmlinux BTF --no-content-size (stdin)", vmlinux, ["-3", "--no-content-size"], true],
    ["vmlinux BTF --content-size", vmlinux, ["-3", "--content-size"]],
    ["vmlinux BTF small blocks", vmlinux, ["-3", "--target-compressed-block-size=1024"]],
    ["vmlinux BTF -B64KiB -T2 (independent chunks)", vmlinux, ["-3", "-B65536", "-T2"]],
    ["1 MiB -19", slice1m, ["-19"]],
    ["1 MiB -22 --ultra", slice1m, ["--ultra", "-22"]],
    ["1 MiB -22 --ultra --long=27 --no-check", slice1m, ["--ultra", "-22", "--long=27", "--no-check"]],
    ["1 MiB -19 wlog=10", slice1m, ["-19", "--zstd=wlog=10"]],
    ["1 MiB -19 small blocks, no size (stdin)", slice1m, ["-19", "--target-compressed-block-size=2048", "--no-content-size"], true],
    ["empty", () => new Uint8Array(0), ["-3"]],
    ["empty, no size (stdin)", () => new Uint8Array(0), ["-3", "--no-content-size"], true],
    ["one byte", () => new Uint8Array([42]), ["-19"]],
    ["incompressible 300 KiB", () => random(300 << 10), ["-3"]],
    ["RLE 2 MiB of 0xaa", () => new Uint8Array(2 << 20).fill(0xaa), ["-19"]],
    ["short periods", () => { const b = new Uint8Array(500000); for (let i = 0; i < b.length; i++) b[i] = "abcdefg"[i % 7].charCodeAt(0) ^ (i % 5000 === 0 ? 1 : 0); return b; }, ["-19"]],
  ];
  for (const [name, make, args, stdin] of cases) {
    it(name, () => {
      const input = make();
      const z = compress(input, args, stdin);
      const out = decode(z);
      expect(out.length).toBe(input.length);
      expect(sha256(out)).toBe(sha256(input));
    });
  }

  it("concatenated frames (cat a.zst b.zst) decode to the concatenation", () => {
    const a = slice1m(), b = random(50000);
    const za = compress(a, ["-19"]), zb = compress(b, ["-1", "--no-check"]);
    const cat = new Uint8Array(za.length + zb.length + za.length);
    cat.set(za); cat.set(zb, za.length); cat.set(za, za.length + zb.length);
    const out = decode(cat);
    expect(out.length).toBe(2 * a.length + b.length);
    expect(sha256(out.subarray(a.length, a.length + b.length))).toBe(sha256(b));
    expect(sha256(out.subarray(a.length + b.length))).toBe(sha256(a));
  });

  it("every vendored fixture blob, compressed by the CLI in one run", () => {
    const blobs: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) { if (f !== "zstd") walk(p); } else if (p.endsWith(".gz")) blobs.push(p);
      }
    };
    walk(FIXTURES);
    expect(checkMany(blobs.map((p) => ({ name: p, bytes: readGz(p) })), ["-6"])).toBe(blobs.length);
    console.log(`zstd: ${blobs.length} vendored fixture blobs round-tripped through the CLI at -6`);
  });

  it.skipIf(!HAS_CORPUS)("every corpus file, compressed by the CLI in one run", () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p); else files.push(p);
      }
    };
    walk(CORPUS);
    const n = checkMany(files.map((p) => ({ name: p, bytes: new Uint8Array(readFileSync(p)) })), ["-3"]);
    console.log(`zstd: ${n} corpus files round-tripped through the CLI at -3`);
    expect(n).toBe(files.length);
  }, 120_000);

  function readGz(p: string): Uint8Array {
    return fixture(p.slice(FIXTURES.length + 1));
  }

  /** Compress every input with one CLI run (--output-dir-flat), decode each, count matches. */
  function checkMany(inputs: { name: string; bytes: Uint8Array }[], args: string[]): number {
    const inDir = join(dir, "many-in"), outDir = join(dir, "many-out");
    rmSync(inDir, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
    spawnSync("mkdir", ["-p", inDir, outDir]);
    const names = inputs.map((x, i) => { const f = join(inDir, `${i}.bin`); writeFileSync(f, x.bytes); return f; });
    const r = spawnSync(ZSTD_CLI!, ["-q", "-f", ...args, "--output-dir-flat", outDir, ...names]);
    if (r.status !== 0) throw new Error(`zstd: ${r.stderr}`);
    let ok = 0;
    inputs.forEach((x, i) => {
      const out = decode(new Uint8Array(readFileSync(join(outDir, `${i}.bin.zst`))));
      if (sha256(out) === sha256(x.bytes)) ok++;
      else throw new Error(`${x.name}: decoded bytes differ`);
    });
    return ok;
  }
});

const VMLINUZ = join(homedir(), ".cache/btfkit/kernel-test/6.12.95+deb12-cloud-amd64/vmlinuz");
describe.skipIf(!existsSync(VMLINUZ) || !ZSTD_CLI)("zstd: the Debian 6.12 kernel payload (kernel-test cache)", () => {
  it("decodes like `zstd -d`; time and wasm memory high-water reported", () => {
    const file = new Uint8Array(readFileSync(VMLINUZ));
    const t0 = performance.now();
    const u = unwrapSync(file);
    const ms = performance.now() - t0;
    expect(u.layers).toEqual(["bzimage", "zstd"]);
    const { payload } = bzImagePayload(file);
    const r = spawnSync(ZSTD_CLI!, ["-d", "-c", "-q"], { input: payload.subarray(0, payload.length - 4), maxBuffer: 1 << 30 });
    expect(r.status).toBe(0);
    expect(sha256(u.bytes)).toBe(sha256(new Uint8Array(r.stdout)));
    console.log(`zstd: vmlinuz payload ${payload.length} -> ${u.bytes.length} bytes in ${ms.toFixed(0)} ms (first decode in this process, copies included); wasm memory ${(wasmMemoryBytes() / 1048576).toFixed(1)} MiB`);
  }, 60_000);
});

describe("zstd: wiring", () => {
  it("unwrap() and loadBtfSync() go through the core for .zst input", async () => {
    const z = fixture("wrapped/loop.btf.zst");
    const u = await unwrap(z);
    expect(u.layers).toEqual(["zstd"]);
    const base = loadBtfSync(fixture("k61-50/vmlinux.btf.gz"));
    const b = loadBtfSync(z, { base });
    expect(b.source?.layers).toEqual(["zstd"]);
    b.free(); base.free();
  });
});
