// Family "wrapped": compressed and kernel-image containers (gzip, zstd with
// and without a content size, xz, LZ4 legacy, bzImage) around module BTF
// (raw or .ko, mutated or not) and around bombs, nested up to past the layer
// limit, with the container bytes themselves mutated, through loadBtf with a
// cap on the decompressed size. Invariants beyond the harness's: the cap
// holds (unwrap never returns more than maxSize), and a bomb stops early
// (the per-case time limit catches one that expands in full first).
import { spawnSync } from "node:child_process";
import { MUTATORS, layoutOf } from "./mutators.mjs";
import * as W from "./wrappers.mjs";

const WRAPPERS = {
  gzip: (p) => W.gzip(p),
  zstd: (p) => W.zstdRaw(p),
  "zstd-no-size": (p) => W.zstdRaw(p, undefined),
  "zstd-lying-size": (p, r) => W.zstdRaw(p, r.pick([0, 1, p.length - 1, p.length + 1, 0xffffffff])),
  xz: (p) => W.xz(p),
  lz4: (p) => W.lz4Legacy(p),
  "lz4-trailer": (p) => W.lz4Legacy(p, true),
  "bzimage-gzip": (p) => W.bzImage(W.gzip(p)),
  "bzimage-xz": (p) => W.bzImage(W.xz(p)),
  "bzimage-lz4": (p) => W.bzImage(W.lz4Legacy(p)),
  "bzimage-bad": (p, r) => W.bzImage(W.gzip(p), r.pick([{ version: 0x207 }, { setupSects: 0 }, { offsetDelta: 0xfffffff0 }, { lengthDelta: 1 }, { lengthDelta: -3 }, { lengthDelta: 0x7fffffff }])),
};
const WRAPPER_NAMES = Object.keys(WRAPPERS);

/** Mutations of the container bytes, aimed at their size fields. */
function mutateContainer(b, r) {
  const o = b.slice();
  const dv = new DataView(o.buffer);
  switch (r.int(4)) {
    case 0: return MUTATORS.bitflip(o, r);
    case 1: return o.slice(0, r.int(o.length));
    case 2: if (o.length >= 8) dv.setUint32(o.length - 4, r.pick([0, 1, 0xffffffff, 0x7fffffff]), true); return o; // gzip ISIZE, xz magic, kernel size word
    default: if (o.length >= 12) dv.setUint32(4 + 4 * r.int(2), r.pick([0, 1, 0xffff, 0xffffff, 0xffffffff]), true); return o; // zstd FCS, lz4 first block size
  }
}

export const wrappedFamily = {
  name: "wrapped",
  setup(ctx) {
    const zeros = new Uint8Array(64 << 20);
    const bombs = [
      { name: "gzip-64MiB-zeros", bytes: W.gzip(zeros) },
      { name: "gzip-in-gzip-64MiB", bytes: W.gzip(W.gzip(zeros)) },
      { name: "zstd-rle-512MiB", bytes: W.zstdRleBomb(4096) },
      { name: "zstd-rle-claims-256B", bytes: W.zstdRleBomb(4096, true) },
      { name: "lz4-match-64x8MiB", bytes: W.lz4Bomb(8 << 20, 64) },
      { name: "bzimage-gzip-64MiB", bytes: W.bzImage(W.gzip(zeros)) },
      { name: "gzip-nested-6", bytes: [1, 2, 3, 4, 5, 6].reduce((b) => W.gzip(b), ctx.seeds.mods[0].bytes) },
    ];
    // A real xz bomb needs LZMA; use the xz tool when the machine has it.
    const x = spawnSync("xz", ["-c", "-1"], { input: zeros, maxBuffer: 1 << 26 });
    if (x.status === 0) {
      const xzBomb = new Uint8Array(x.stdout);
      bombs.push({ name: "xz-64MiB-zeros", bytes: xzBomb }, { name: "bzimage-xz-64MiB", bytes: W.bzImage(xzBomb) });
    }
    const payloads = ctx.seeds.mods.map((s) => ({ ...s, info: layoutOf(s.bytes) })).concat(ctx.seeds.kos.map((k) => ({ ...k, info: null })));
    return { bombs, payloads };
  },
  async run(st, rng, cs, ctx) {
    const { api, base } = ctx;
    let bytes;
    let desc;
    let maxSize = rng.pick([64 << 10, 1 << 20, 4 << 20]);
    if (rng.chance(0.2)) {
      const b = rng.pick(st.bombs);
      bytes = b.bytes;
      desc = `bomb=${b.name}`;
    } else {
      const p = rng.pick(st.payloads);
      bytes = p.bytes;
      desc = `payload=${p.name}`;
      if (p.info && rng.chance(0.5)) {
        const m = rng.pick(["bitflip", "headerExtreme", "inflateVlen", "corruptId", "corruptStrOff", "truncateAtBoundary"]);
        bytes = MUTATORS[m](bytes, rng, p.info);
        desc += `+${m}`;
      }
      const layers = [];
      for (let k = 0, n = 1 + rng.int(3); k < n; k++) {
        const w = rng.pick(WRAPPER_NAMES);
        layers.push(w);
        bytes = WRAPPERS[w](bytes, rng);
      }
      desc += ` wrappers=${layers.join("+")}`;
      if (rng.chance(0.1)) maxSize = undefined; // the default cap
    }
    if (rng.chance(0.4)) { bytes = mutateContainer(bytes, rng); desc += " +container-mutation"; }
    cs.describe(`${desc} maxSize=${maxSize ?? "default"}`);
    if (rng.chance(0.25)) {
      const u = await cs.tryAsync("unwrap", () => api.unwrap(bytes, { maxSize }));
      const cap = maxSize ?? api.DEFAULT_MAX_DECOMPRESSED;
      if (u.ok && u.value.layers.length && u.value.bytes.length > cap) cs.finding(`unwrap returned ${u.value.bytes.length} bytes over the cap of ${cap}`);
    }
    const r = await cs.tryAsync("loadBtf", () => api.loadBtf(bytes, { maxSize, base }));
    if (!r.ok) return r.code;
    cs.try("dump-raw", () => r.value.dumpRawBytes());
    r.value.source?.distilledBase?.free();
    r.value.free();
    return "accepted";
  },
};
