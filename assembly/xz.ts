// The xz container (the .xz file format specification, 1.x): streams
// (header and footer with their CRC32s, concatenated, with stream padding),
// blocks (header with its CRC32, optional compressed/uncompressed sizes,
// filter flags; padding; the check), and the index, verified against the
// blocks actually decoded. Filters: LZMA2 (assembly/lzma.ts) and x86 BCJ
// chained before it, as Linux compresses its bzImage payloads
// (`xz --check=crc32 --x86 --lzma2=...`). Checks: none, CRC32, CRC64 and
// SHA-256 (assembly/crc.ts); the other check ids are reserved by the format
// and refused.
//
// Every stream is decoded into one flat output buffer; a block's BCJ filter
// runs over the block's output in place once LZMA2 has produced it all.

import { Err, fail, clearError } from "./errors";
import { ByteSink } from "./sink";
import { crc32, crc64, sha256 } from "./crc";
import { lzmaBegin, lzmaMax, lzma2Decode, reserve, tooLarge } from "./lzma";

/** Declared sizes above this ratio to the input are not used to pre-size buffers. */
export const XZ_PLAUSIBLE_RATIO: u64 = 1100;

const FILTER_X86: u64 = 0x04;
const FILTER_LZMA2: u64 = 0x21;
const MAX_FILTERS = 4;

let gSrc: usize = 0;
let vli: u64 = 0;
/** The blocks of the current stream: (unpadded size, uncompressed size) pairs. */
let records: ByteSink | null = null;
const bcjStart = new StaticArray<u32>(MAX_FILTERS);
const DIGEST: usize = memory.data(32);

function bad(p: usize, msg: string): bool {
  return fail(Err.BAD_COMPRESSED, <i64>(p - gSrc), 0, "xz: " + msg);
}

/** A variable-length integer at [p, end) into `vli`; the address after it, or 0. */
function readVli(p: usize, end: usize): usize {
  let v: u64 = 0;
  for (let i: u32 = 0; i < 9; i++) {
    if (p >= end) { bad(p, "integer truncated"); return 0; }
    const b = <u64>load<u8>(p);
    p++;
    v |= (b & 0x7f) << (<u64>i * 7);
    if ((b & 0x80) == 0) {
      if (b == 0 && i > 0) { bad(p - 1, "integer not minimally encoded"); return 0; }
      vli = v;
      return p;
    }
  }
  bad(p, "integer longer than 9 bytes");
  return 0;
}

function checkSize(type: u32): usize {
  return type == 0 ? 0 : type == 1 ? 4 : type == 4 ? 8 : type == 10 ? 32 : <usize>-1;
}

/** x86 BCJ decoding of [buf, buf+size) in place, as if it began at offset `start`. */
function bcjX86(buf: usize, size: usize, start: u32): void {
  if (size <= 4) return;
  const last = size - 4;
  let prevPos: usize = <usize>-1;
  let prevMask: u32 = 0;
  let i: usize = 0;
  while (i < last) {
    const op = <u32>load<u8>(buf + i);
    if ((op & 0xfe) != 0xe8) { i++; continue; }
    // A CALL or JMP opcode: its 32-bit operand was made absolute by the
    // encoder when it looked like a near target (top byte 0x00 or 0xff);
    // prevMask remembers opcodes among the 3 bytes before, which would
    // have been operand bytes instead.
    const gap = i - prevPos;
    if (gap > 3) {
      prevMask = 0;
    } else {
      prevMask = (prevMask << <u32>(gap - 1)) & 7;
      if (prevMask != 0) {
        const b = <u32>load<u8>(buf + i + 4 - <usize>maskBits(prevMask));
        if (!maskAllowed(prevMask) || b == 0 || b == 0xff) {
          prevPos = i;
          prevMask = (prevMask << 1) | 1;
          i++;
          continue;
        }
      }
    }
    prevPos = i;
    const top = <u32>load<u8>(buf + i + 4);
    if (top == 0 || top == 0xff) {
      let src = load<u32>(buf + i + 1);
      let dest: u32;
      for (;;) {
        dest = src - (start + <u32>i + 5);
        if (prevMask == 0) break;
        const j = maskBits(prevMask) * 8;
        const b = (dest >>> (24 - j)) & 0xff;
        if (b != 0 && b != 0xff) break;
        src = dest ^ ((<u32>1 << (32 - j)) - 1);
      }
      dest &= 0x01ffffff;
      dest |= 0 - (dest & 0x01000000);
      store<u32>(buf + i + 1, dest);
      i += 5;
    } else {
      prevMask = (prevMask << 1) | 1;
      i++;
    }
  }
}

@inline function maskBits(m: u32): u32 { return m == 0 ? 0 : m == 1 ? 1 : m < 4 ? 2 : 3; }
@inline function maskAllowed(m: u32): bool { return m < 3 || m == 4; }

/** One block from its header at p; the address after its check, or 0. */
function decodeBlock(p: usize, end: usize, out: ByteSink, checkType: u32): usize {
  const hsize = (<usize>load<u8>(p) + 1) << 2;
  if (end - p < hsize) { bad(p, "block header truncated"); return 0; }
  const hend = p + hsize - 4;
  if (crc32(p, hsize - 4) != load<u32>(hend)) { bad(hend, "block header CRC32 mismatch"); return 0; }
  const flags = <u32>load<u8>(p, 1);
  if ((flags & 0x3c) != 0) { bad(p + 1, "reserved block flags set"); return 0; }
  let q = p + 2;
  let compSize: u64 = U64.MAX_VALUE;
  let uncSize: u64 = U64.MAX_VALUE;
  if (flags & 0x40) {
    q = readVli(q, hend); if (q == 0) return 0;
    compSize = vli;
    if (compSize == 0) { bad(q, "block compressed size is zero"); return 0; }
  }
  if (flags & 0x80) {
    q = readVli(q, hend); if (q == 0) return 0;
    uncSize = vli;
  }
  const nf = (flags & 3) + 1;
  let nBcj = 0;
  let dictProp: u32 = 0;
  for (let f: u32 = 0; f < nf; f++) {
    const fp = q;
    q = readVli(q, hend); if (q == 0) return 0;
    const id = vli;
    q = readVli(q, hend); if (q == 0) return 0;
    const psize = vli;
    if (psize > <u64>(hend - q)) { bad(q, "filter properties past the block header"); return 0; }
    const isLast = f == nf - 1;
    if (id == FILTER_LZMA2) {
      if (!isLast) { bad(fp, "LZMA2 is not the last filter"); return 0; }
      if (psize != 1) { bad(fp, "LZMA2 properties are not 1 byte"); return 0; }
      dictProp = <u32>load<u8>(q);
      if (dictProp > 40) { bad(q, "LZMA2 dictionary size out of range"); return 0; }
    } else if (id == FILTER_X86) {
      if (isLast) { bad(fp, "the filter chain does not end with LZMA2"); return 0; }
      if (psize != 0 && psize != 4) { bad(fp, "x86 BCJ properties are not 0 or 4 bytes"); return 0; }
      unchecked(bcjStart[nBcj++] = psize == 4 ? load<u32>(q) : 0);
    } else {
      bad(fp, "filter 0x" + (id < 0x100000000 ? (<u32>id).toString(16) : "?") + " not supported"); return 0;
    }
    q += <usize>psize;
  }
  for (; q < hend; q++) if (load<u8>(q) != 0) { bad(q, "non-zero block header padding"); return 0; }

  const data = p + hsize;
  const blockOff = <u64>out.len;
  let dataEnd = end;
  if (compSize != U64.MAX_VALUE) {
    if (compSize > <u64>(end - data)) { bad(data, "block data truncated"); return 0; }
    dataEnd = data + <usize>compSize;
  }
  if (uncSize != U64.MAX_VALUE) {
    if (uncSize > lzmaMax() - blockOff) { tooLarge(p); return 0; }
    if (uncSize <= <u64>(end - data) * XZ_PLAUSIBLE_RATIO) reserve(out, blockOff + uncSize, true);
  }
  const after = lzma2Decode(data, dataEnd, out, dictProp);
  if (after == 0) return 0;
  const comp = <u64>(after - data);
  const produced = <u64>out.len - blockOff;
  if (compSize != U64.MAX_VALUE && comp != compSize) { bad(p, "block compressed size does not match its header"); return 0; }
  if (uncSize != U64.MAX_VALUE && produced != uncSize) { bad(p, "block uncompressed size does not match its header"); return 0; }
  // Filters decode in the reverse of the chain's order.
  for (let f = nBcj - 1; f >= 0; f--) bcjX86(out.ptr + <usize>blockOff, <usize>produced, unchecked(bcjStart[f]));
  q = after;
  while (((q - p) & 3) != 0) {
    if (q >= end) { bad(q, "block padding truncated"); return 0; }
    if (load<u8>(q) != 0) { bad(q, "non-zero block padding"); return 0; }
    q++;
  }
  const cs = checkSize(checkType);
  if (<usize>(end - q) < cs) { bad(q, "block check truncated"); return 0; }
  const o = out.ptr + <usize>blockOff;
  if (checkType == 1) {
    if (crc32(o, <usize>produced) != load<u32>(q)) { bad(q, "block CRC32 mismatch"); return 0; }
  } else if (checkType == 4) {
    if (crc64(o, <usize>produced) != load<u64>(q)) { bad(q, "block CRC64 mismatch"); return 0; }
  } else if (checkType == 10) {
    sha256(o, <usize>produced, DIGEST);
    if (memory.compare(DIGEST, q, 32) != 0) { bad(q, "block SHA-256 mismatch"); return 0; }
  }
  const r = records!;
  r.reserve(16);
  store<u64>(r.ptr + r.len, <u64>hsize + comp + <u64>cs);
  store<u64>(r.ptr + r.len + 8, produced);
  r.len += 16;
  return q + cs;
}

/** The index at p (after the stream's blocks); the address after it, or 0. */
function decodeIndex(p: usize, end: usize): usize {
  const r = records!;
  const count = <u64>(r.len >> 4);
  let q = readVli(p + 1, end); if (q == 0) return 0;
  if (vli != count) { bad(p + 1, "index lists " + vli.toString() + " blocks but the stream has " + count.toString()); return 0; }
  for (let i: u64 = 0; i < count; i++) {
    const rp = q;
    q = readVli(q, end); if (q == 0) return 0;
    const unpadded = vli;
    q = readVli(q, end); if (q == 0) return 0;
    const rec = r.ptr + <usize>(i << 4);
    if (unpadded != load<u64>(rec) || vli != load<u64>(rec, 8)) { bad(rp, "index record " + i.toString() + " does not match its block"); return 0; }
  }
  while (((q - p) & 3) != 0) {
    if (q >= end) { bad(q, "index padding truncated"); return 0; }
    if (load<u8>(q) != 0) { bad(q, "non-zero index padding"); return 0; }
    q++;
  }
  if (end - q < 4) { bad(q, "index CRC32 truncated"); return 0; }
  if (crc32(p, q - p) != load<u32>(q)) { bad(q, "index CRC32 mismatch"); return 0; }
  return q + 4;
}

/** One stream from its header at p; the address after its footer, or 0. */
function decodeStream(p: usize, end: usize, out: ByteSink): usize {
  if (end - p < 12) { bad(p, "stream header truncated"); return 0; }
  if (load<u32>(p) != 0x587a37fd || load<u16>(p, 4) != 0x5a) { bad(p, "not an xz stream header"); return 0; }
  if (crc32(p + 6, 2) != load<u32>(p, 8)) { bad(p + 8, "stream header CRC32 mismatch"); return 0; }
  const flags = <u32>load<u16>(p, 6);
  if ((flags & 0xf0ff) != 0) { bad(p + 6, "reserved stream flags set"); return 0; }
  const checkType = flags >> 8;
  if (checkSize(checkType) == <usize>-1) { bad(p + 7, "check type " + checkType.toString() + " not supported"); return 0; }
  records!.len = 0;
  let q = p + 12;
  for (;;) {
    if (q >= end) { bad(q, "stream truncated before its index"); return 0; }
    if (load<u8>(q) == 0) break;
    q = decodeBlock(q, end, out, checkType);
    if (q == 0) return 0;
  }
  const idx = q;
  q = decodeIndex(q, end);
  if (q == 0) return 0;
  if (end - q < 12) { bad(q, "stream footer truncated"); return 0; }
  if (crc32(q + 4, 6) != load<u32>(q)) { bad(q, "stream footer CRC32 mismatch"); return 0; }
  if (<u64>(load<u32>(q, 4)) * 4 + 4 != <u64>(q - idx)) { bad(q + 4, "stream footer backward size does not match the index"); return 0; }
  if (<u32>load<u16>(q, 8) != flags) { bad(q + 8, "stream footer flags differ from the header's"); return 0; }
  if (load<u16>(q, 10) != 0x5a59) { bad(q + 10, "stream footer magic missing"); return 0; }
  return q + 12;
}

let declaredAt: usize = 0;

/**
 * The total uncompressed size the streams' indexes declare, read backwards
 * from the end as liblzma's file info does (footer -> index -> the stream's
 * start, then the stream before it), or -1 when that walk fails (the decode
 * proper then reports what is wrong). Only sizes the output buffer and
 * refuses an output over the cap before anything is allocated; the decode
 * still verifies every index against its blocks.
 */
export function xzDeclaredSize(src: usize, len: usize): i64 {
  let p = src + len;
  let total: u64 = 0;
  let streams = 0;
  while (p > src) {
    while (p - src >= 4 && load<u32>(p - 4) == 0) p -= 4; // stream padding
    if (p == src && streams > 0) break;
    if (p - src < 24) return -1;
    const footer = p - 12;
    if (load<u16>(footer, 10) != 0x5a59 || crc32(footer + 4, 6) != load<u32>(footer)) return -1;
    const indexSize = (<usize>load<u32>(footer, 4) + 1) << 2;
    if (indexSize > footer - src - 12) return -1;
    const idx = footer - indexSize;
    if (load<u8>(idx) != 0 || crc32(idx, indexSize - 4) != load<u32>(footer - 4)) return -1;
    const idxEnd = footer - 4;
    let q = readVli(idx + 1, idxEnd); if (q == 0) return -1;
    const count = vli;
    let blocks: u64 = 0;
    for (let i: u64 = 0; i < count; i++) {
      q = readVli(q, idxEnd); if (q == 0) return -1;
      if (vli > 0x7fffffffffffffff - blocks) return -1;
      blocks += (vli + 3) & ~(<u64>3);
      q = readVli(q, idxEnd); if (q == 0) return -1;
      if (vli > 0x3fffffffffffffff - total) return -1;
      total += vli;
    }
    if (blocks > <u64>(idx - src) - 12) return -1;
    declaredAt = idx;
    p = idx - <usize>blocks - 12;
    streams++;
  }
  return streams > 0 ? <i64>total : -1;
}

/**
 * Decompress the xz streams in [src, src+len) (with stream padding between
 * and after them) into `out`. At most `max` bytes: TOO_LARGE beyond that.
 */
export function xzDecompress(src: usize, len: usize, out: ByteSink, max: u64): bool {
  gSrc = src;
  lzmaBegin(src, max);
  if (records == null) records = new ByteSink(256);
  // Refused before anything grows when the indexes declare too much.
  const declared = xzDeclaredSize(src, len);
  if (declared < 0) clearError(); // the decode below reports what is wrong
  if (declared >= 0 && <u64>declared > lzmaMax()) return tooLarge(declaredAt);
  const end = src + len;
  let p = src;
  let streams = 0;
  while (p < end) {
    if (streams > 0) {
      // Stream padding: zero bytes in units of four.
      const pad = p;
      while (p < end && load<u8>(p) == 0) p++;
      if (((p - pad) & 3) != 0) return bad(pad, "stream padding is not a multiple of 4 bytes");
      if (p == end) break;
    }
    p = decodeStream(p, end, out);
    if (p == 0) return false;
    streams++;
  }
  if (streams == 0) return bad(p, "no xz stream");
  return true;
}
