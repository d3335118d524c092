// LZ4 "legacy" frames, the format of lz4 -l and of kernels built with
// CONFIG_KERNEL_LZ4 (magic 0x184C2102, then blocks of u32 compressed size +
// LZ4 block data, each decompressing to at most 8 MiB). Output is capped.

import { BtfError } from "./errors.js";

const LEGACY_MAGIC = 0x184c2102;

export function lz4LegacyDecode(b: Uint8Array, max: number): Uint8Array {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 4 || dv.getUint32(0, true) !== LEGACY_MAGIC) throw new BtfError("BAD_COMPRESSED", "not an LZ4 legacy frame", { offset: 0 });
  let out: Uint8Array = new Uint8Array(Math.min(max, Math.max(1 << 16, b.length * 4)));
  let o = 0;
  let p = 4;
  while (p + 4 <= b.length) {
    const size = dv.getUint32(p, true);
    if (size === LEGACY_MAGIC) { p += 4; continue; } // concatenated frames
    p += 4;
    if (size === 0 || size > b.length - p) {
      // A trailing size word (kernel images append one) ends the stream.
      if (p - 4 + 4 >= b.length - 4) break;
      throw new BtfError("BAD_COMPRESSED", `lz4 block of ${size} bytes runs past the input`, { offset: p - 4 });
    }
    const end = p + size;
    while (p < end) {
      const token = b[p++];
      let lit = token >> 4;
      if (lit === 15) {
        let x;
        do { if (p >= end) throw bad(p); x = b[p++]; lit += x; } while (x === 255);
      }
      if (p + lit > end) throw bad(p);
      if (o + lit > out.length) out = grow(out, o + lit, max);
      out.set(b.subarray(p, p + lit), o);
      o += lit;
      p += lit;
      if (p >= end) break; // the last sequence has literals only
      if (p + 2 > end) throw bad(p);
      const dist = b[p] | (b[p + 1] << 8);
      p += 2;
      if (dist === 0 || dist > o) throw new BtfError("BAD_COMPRESSED", `lz4 match distance ${dist} out of range`, { offset: p - 2 });
      let len = token & 15;
      if (len === 15) {
        let x;
        do { if (p >= end) throw bad(p); x = b[p++]; len += x; } while (x === 255);
      }
      len += 4;
      if (o + len > out.length) out = grow(out, o + len, max);
      // Overlapping copies repeat the pattern, so copy byte by byte when close.
      let s = o - dist;
      if (dist >= len) { out.copyWithin(o, s, s + len); o += len; }
      else for (let i = 0; i < len; i++) out[o++] = out[s++];
    }
    if (o > max) throw new BtfError("TOO_LARGE", `lz4 output exceeds the cap of ${max} bytes`);
  }
  return out.subarray(0, o);
}

function bad(p: number): BtfError {
  return new BtfError("BAD_COMPRESSED", "lz4 block truncated", { offset: p });
}

function grow(out: Uint8Array, need: number, max: number): Uint8Array {
  if (need > max) throw new BtfError("TOO_LARGE", `lz4 output exceeds the cap of ${max} bytes`);
  let n = out.length * 2;
  while (n < need) n *= 2;
  const g = new Uint8Array(Math.min(n, max));
  g.set(out);
  return g;
}
