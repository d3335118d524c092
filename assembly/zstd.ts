// A zstd decoder (RFC 8878), written for kernel images: Debian compresses
// its bzImage payloads with `zstd -22 --ultra`, ~11 MB in, ~60 MB out.
//
// Shape, following the format document's sections and the reference
// decoder's structure (lib/decompress/zstd_decompress*.c), in our own code:
//  frames (skippable, concatenated; header flags; content size; XXH64)
//   -> blocks (raw, RLE, compressed, each at most min(window, 128 KiB) out)
//     -> literals section (raw, RLE, Huffman in 1 or 4 streams, treeless reuse)
//     -> sequences section (predefined / RLE / FSE / repeat tables, repeat offsets)
//
// The output is one flat buffer holding every frame, so a frame's window is
// simply its output so far: no ring buffer, and a match may reach back to
// the frame's first byte and no further. The buffer grows geometrically up
// to the caller's cap (or is sized once from a declared content size),
// always with SLACK spare bytes so the copy loops may write 8 or 16 bytes at
// a time past the end of what they produce.
//
// Every read is bounds-checked against its section. Backward bitstreams
// read only inside their own bytes; reading past their start puts the
// reader into an overflow state that is detected when the stream must end,
// and every loop is bounded by a count taken from a header. Failures record
// BAD_COMPRESSED (or TOO_LARGE for the cap) and return a failure value.

import { Err, fail } from "./errors";
import { ByteSink } from "./sink";
import { xxh64 } from "./xxh64";

/** Spare bytes after the output and the literals, for wide copies. */
export const SLACK: u32 = 32;
const BLOCK_MAX: u32 = 128 * 1024;
/** The largest output the core agrees to hold (TLSF blocks are < 1 GiB). */
const CORE_MAX: u64 = (1 << 30) - (1 << 20);
/** Declared sizes above this ratio to the input are not used to pre-size buffers. */
export const PLAUSIBLE_RATIO: u64 = 64;

// ---- code tables (RFC 8878 3.1.1.3.2.1) --------------------------------

const LL_BASE: usize = memory.data<u32>([
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
  16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096,
  8192, 16384, 32768, 65536]);
const LL_BITS: usize = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12,
  13, 14, 15, 16]);
const ML_BASE: usize = memory.data<u32>([
  3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
  19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34,
  35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051,
  4099, 8195, 16387, 32771, 65539]);
const ML_BITS: usize = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11,
  12, 13, 14, 15, 16]);

// Default distributions (RFC 8878 3.1.1.3.2.2), accuracy logs 6, 6, 5.
const LL_DEFAULT: usize = memory.data<i16>([
  4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1,
  -1, -1, -1, -1]);
const ML_DEFAULT: usize = memory.data<i16>([
  1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1,
  -1, -1, -1, -1, -1]);
const OF_DEFAULT: usize = memory.data<i16>([
  1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1]);

const LL_MAX_SYM: u32 = 35;
const ML_MAX_SYM: u32 = 52;
const OF_MAX_SYM: u32 = 31;
const LL_MAX_LOG: u32 = 9;
const ML_MAX_LOG: u32 = 9;
const OF_MAX_LOG: u32 = 8;
const HUF_MAX_BITS: u32 = 12;

// ---- scratch memory, allocated once ------------------------------------
// A decode table cell is 8 bytes: u16 next-state base, u8 state bits,
// u8 extra bits of the code, u32 base value (or the symbol, for weights).

const OFF_LIT: usize = 0; // literals of the current block
const OFF_HUF: usize = OFF_LIT + BLOCK_MAX + 64; // 4096 u16 entries: symbol << 8 | bits
const OFF_WEIGHTS: usize = OFF_HUF + 8192; // 256 u8
const OFF_RANK: usize = OFF_WEIGHTS + 256; // 16 u32
const OFF_NORM: usize = OFF_RANK + 64; // 64 i16
const OFF_NEXT: usize = OFF_NORM + 128; // 64 u16
const OFF_OFCODE: usize = OFF_NEXT + 128; // 32 u32 bases + 32 u8 bits for offset codes
const OFF_TAB: usize = OFF_OFCODE + 160; // 3 kinds x 512 cells (FSE-described tables)
const OFF_RLE: usize = OFF_TAB + 3 * 512 * 8; // 3 kinds x 1 cell
const OFF_PRE: usize = OFF_RLE + 3 * 8; // 3 kinds x 64 cells (predefined)
const OFF_WTAB: usize = OFF_PRE + 3 * 64 * 8; // 64 cells (Huffman weights)
const OFF_SHORT: usize = OFF_WTAB + 64 * 8; // 8 bytes: a zero-padded copy of a bitstream shorter than 8
const SCRATCH_SIZE: usize = OFF_SHORT + 8;

let scratch: usize = 0;

const K_LL: i32 = 0;
const K_OF: i32 = 1;
const K_ML: i32 = 2;

// Per-frame decoder state.
let gSrc: usize = 0; // input start, for error offsets
let hufBits: u32 = 0;
let hufValid = false;
const tabPtr = new StaticArray<usize>(3);
const tabLog = new StaticArray<u32>(3);
const tabValid = new StaticArray<bool>(3);
let rep0: u32 = 1;
let rep1: u32 = 4;
let rep2: u32 = 8;
// Table read results.
let nSyms: u32 = 0;
let accLog: u32 = 0;

function bad(p: usize, msg: string): bool {
  return fail(Err.BAD_COMPRESSED, <i64>(p - gSrc), 0, "zstd: " + msg);
}

/** Allocate the decoder's tables once (before the big buffers, so they do not split the heap). */
export function zstdInit(): void {
  if (scratch != 0) return;
  scratch = heap.alloc(SCRATCH_SIZE);
  memory.fill(scratch, 0, SCRATCH_SIZE);
  const oc = scratch + OFF_OFCODE;
  for (let n: u32 = 0; n < 32; n++) {
    store<u32>(oc + (<usize>n << 2), <u32>1 << n);
    store<u8>(oc + 128 + n, <u8>n);
  }
  // The predefined tables are built once from the default distributions.
  memory.copy(scratch + OFF_NORM, LL_DEFAULT, 36 * 2);
  buildFse(scratch + OFF_PRE, 6, 36, LL_BASE, LL_BITS);
  memory.copy(scratch + OFF_NORM, OF_DEFAULT, 29 * 2);
  buildFse(scratch + OFF_PRE + 64 * 8, 5, 29, oc, oc + 128);
  memory.copy(scratch + OFF_NORM, ML_DEFAULT, 53 * 2);
  buildFse(scratch + OFF_PRE + 128 * 8, 6, 53, ML_BASE, ML_BITS);
}

@inline function highBit(v: u32): u32 { return 31 - clz<u32>(v); }

/** The next 32 bits (fewer near the end, zero-filled) of a forward bitstream at bit `pos`. */
function fwdBits(p: usize, end: usize, pos: u32): u32 {
  const q = p + (<usize>pos >> 3);
  let v: u32 = 0;
  if (q + 4 <= end) {
    v = load<u32>(q);
  } else {
    for (let i: usize = 0; i < 4; i++) if (q + i < end) v |= <u32>load<u8>(q + i) << (<u32>i << 3);
  }
  return v >> (pos & 7);
}

/**
 * An FSE table description (RFC 8878 4.1.1) at [p, end): normalized counts
 * into NORM, nSyms and accLog set. Returns the bytes used, or -1.
 */
function readNCount(p: usize, end: usize, maxSym: u32, maxLog: u32): i32 {
  const norm = scratch + OFF_NORM;
  memory.fill(norm, 0, 128);
  if (p >= end) { bad(p, "FSE table description truncated"); return -1; }
  let pos: u32 = 4;
  const log = (fwdBits(p, end, 0) & 15) + 5;
  if (log > maxLog) { bad(p, "FSE accuracy log " + log.toString() + " above " + maxLog.toString()); return -1; }
  let remaining: i32 = (1 << log) + 1;
  let threshold: i32 = 1 << log;
  let nbBits: u32 = log + 1;
  let sym: u32 = 0;
  let prev0 = false;
  while (remaining > 1 && sym <= maxSym) {
    if (prev0) {
      // 2-bit repeat flags: how many more zero-probability symbols follow.
      for (;;) {
        const f = fwdBits(p, end, pos) & 3;
        pos += 2;
        sym += f;
        if (sym > maxSym) { bad(p, "FSE zero run past the last symbol"); return -1; }
        if (f != 3) break;
      }
    }
    const bits = <i32>fwdBits(p, end, pos);
    const max = (2 * threshold - 1) - remaining;
    let count: i32;
    if ((bits & (threshold - 1)) < max) {
      count = bits & (threshold - 1);
      pos += nbBits - 1;
    } else {
      count = bits & (2 * threshold - 1);
      if (count >= threshold) count -= max;
      pos += nbBits;
    }
    count--;
    remaining -= count < 0 ? -count : count;
    store<i16>(norm + (<usize>sym << 1), <i16>count);
    sym++;
    prev0 = count == 0;
    while (remaining < threshold) { nbBits--; threshold >>= 1; }
  }
  if (remaining != 1) { bad(p, "FSE probabilities do not add up"); return -1; }
  const used = (pos + 7) >> 3;
  if (<usize>used > end - p) { bad(p, "FSE table description truncated"); return -1; }
  nSyms = sym;
  accLog = log;
  return <i32>used;
}

/** Build the decode table for NORM[0..n) at accuracy `log` (RFC 8878 4.1.1, the spread). */
function buildFse(table: usize, log: u32, n: u32, baseTab: usize, bitsTab: usize): bool {
  const norm = scratch + OFF_NORM;
  const next = scratch + OFF_NEXT;
  const size: u32 = 1 << log;
  let high: i32 = <i32>size - 1;
  for (let s: u32 = 0; s < n; s++) {
    const c = <i32>load<i16>(norm + (<usize>s << 1));
    if (c == -1) {
      store<u32>(table + (<usize>high << 3), s, 4);
      high--;
      store<u16>(next + (<usize>s << 1), 1);
    } else {
      store<u16>(next + (<usize>s << 1), <u16>c);
    }
  }
  const mask = size - 1;
  const step = (size >> 1) + (size >> 3) + 3;
  let pos: u32 = 0;
  for (let s: u32 = 0; s < n; s++) {
    const c = <i32>load<i16>(norm + (<usize>s << 1));
    for (let i: i32 = 0; i < c; i++) {
      store<u32>(table + (<usize>pos << 3), s, 4);
      do { pos = (pos + step) & mask; } while (<i32>pos > high);
    }
  }
  if (pos != 0) return bad(0 + gSrc, "FSE table spread does not close");
  for (let u: u32 = 0; u < size; u++) {
    const cell = table + (<usize>u << 3);
    const s = load<u32>(cell, 4);
    const np = next + (<usize>s << 1);
    const nx = <u32>load<u16>(np);
    store<u16>(np, <u16>(nx + 1));
    const nb = log - highBit(nx);
    store<u16>(cell, <u16>((nx << nb) - size));
    store<u8>(cell, <u8>nb, 2);
    if (baseTab != 0) {
      store<u8>(cell, load<u8>(bitsTab + s), 3);
      store<u32>(cell, load<u32>(baseTab + (<usize>s << 2)), 4);
    } else {
      store<u8>(cell, 0, 3);
    }
  }
  return true;
}

// ---- backward bitstream -----------------------------------------------------
//
// One reader for every backward stream (Huffman weights, Huffman literals,
// sequences). Its state is two locals of the reading loop, so hot loops keep
// it in registers: `cont`, the 8 bytes at the reader's position, and `pos`,
// that position << 32 | how many bits of `cont` are used (from the top).
// brInit hands the start state over in bPos/bCont; peek() reads, `pos += n`
// consumes; refill() steps back over the whole bytes used, never before the
// stream's start, and the loop reloads `cont = load<u64>(posPtr(pos))`. A
// stream shorter than 8 bytes is read from a zero-padded copy, so that reload
// never reads outside it. Reading past the start leaves `used` above 64:
// the stream was overrun (checked where the format says it must end).

let bStart: usize = 0;
let bPos: u64 = 0;
let bCont: u64 = 0;

/** Start reading [start, start+size) backwards; false when its end marker is missing. */
function brInit(start: usize, size: usize): bool {
  if (size == 0) return bad(start, "empty bitstream");
  const last = load<u8>(start + size - 1);
  if (last == 0) return bad(start + size - 1, "bitstream end marker missing");
  if (size < 8) {
    const short = scratch + OFF_SHORT;
    store<u64>(short, 0);
    memory.copy(short, start, size);
    start = short;
    size = 8;
  }
  bStart = start;
  const ptr = start + size - 8;
  bCont = load<u64>(ptr);
  bPos = (<u64>ptr << 32) | <u64>(<u32>clz<u64>(bCont) + 1);
  return true;
}

@inline function posPtr(pos: u64): usize { return <usize>(pos >> 32); }
@inline function posUsed(pos: u64): u32 { return <u32>pos; }

/** The next `n` bits (n <= 32), without consuming them. */
@inline function peek(cont: u64, pos: u64, n: u32): u32 {
  return <u32>(((cont << (pos & 63)) >> 1) >> <u64>(63 - n));
}

/** The position after stepping back over the whole bytes used, not before `start`. */
@inline function refill(pos: u64, start: usize): u64 {
  const room = posPtr(pos) - start;
  let nb = <usize>(posUsed(pos) >> 3);
  if (nb > room) nb = room;
  return pos - (<u64>nb << 32) - (<u64>nb << 3);
}

/** Has the reader consumed the whole stream and more? */
@inline function overrun(pos: u64): bool { return posUsed(pos) > 64; }

/** Has the reader consumed the stream exactly? */
@inline function consumed(pos: u64): bool { return posPtr(pos) == bStart && posUsed(pos) == 64; }

// ---- Huffman ---------------------------------------------------------------

/** Huffman weights compressed with FSE (RFC 8878 4.2.1.2): returns the count, or -1. */
function fseWeights(p: usize, size: usize): i32 {
  const end = p + size;
  const used = readNCount(p, end, HUF_MAX_BITS, 6);
  if (used < 0) return -1;
  const table = scratch + OFF_WTAB;
  if (!buildFse(table, accLog, nSyms, 0, 0)) return -1;
  if (!brInit(p + used, size - <usize>used)) return -1;
  const w = scratch + OFF_WEIGHTS;
  const log = accLog;
  const start = bStart;
  let pos = bPos;
  let cont = bCont;
  let s1 = peek(cont, pos, log); pos += log;
  let s2 = peek(cont, pos, log); pos += log;
  let n: u32 = 0;
  // Two interleaved states; the stream ends when a refill finds it overrun,
  // and the other state's symbol is the last weight.
  for (;;) {
    if (n > 253) { bad(p, "too many Huffman weights"); return -1; }
    let cell = table + (<usize>s1 << 3);
    store<u8>(w + n++, <u8>load<u32>(cell, 4));
    let bits = <u32>load<u8>(cell, 2);
    s1 = <u32>load<u16>(cell) + peek(cont, pos, bits); pos += bits;
    if (overrun(pos)) {
      store<u8>(w + n++, <u8>load<u32>(table + (<usize>s2 << 3), 4));
      break;
    }
    pos = refill(pos, start); cont = load<u64>(posPtr(pos));
    cell = table + (<usize>s2 << 3);
    store<u8>(w + n++, <u8>load<u32>(cell, 4));
    bits = <u32>load<u8>(cell, 2);
    s2 = <u32>load<u16>(cell) + peek(cont, pos, bits); pos += bits;
    if (overrun(pos)) {
      store<u8>(w + n++, <u8>load<u32>(table + (<usize>s1 << 3), 4));
      break;
    }
    pos = refill(pos, start); cont = load<u64>(posPtr(pos));
  }
  return <i32>n;
}

/** A Huffman tree description at [p, end) into the decode table. Returns the address after it, or 0. */
function readHuffTree(p: usize, end: usize): usize {
  if (p >= end) { bad(p, "Huffman tree description truncated"); return 0; }
  const hb = <u32>load<u8>(p);
  p++;
  const w = scratch + OFF_WEIGHTS;
  let nw: u32;
  if (hb >= 128) {
    nw = hb - 127;
    const nbytes = <usize>((nw + 1) >> 1);
    if (end - p < nbytes) { bad(p, "Huffman weights truncated"); return 0; }
    for (let i: u32 = 0; i < nw; i++) {
      const b = <u32>load<u8>(p + (<usize>i >> 1));
      store<u8>(w + i, <u8>((i & 1) != 0 ? b & 15 : b >> 4));
    }
    p += nbytes;
  } else {
    if (hb == 0 || end - p < <usize>hb) { bad(p, "Huffman weights truncated"); return 0; }
    const r = fseWeights(p, hb);
    if (r < 0) return 0;
    nw = <u32>r;
    p += hb;
  }
  const rank = scratch + OFF_RANK;
  memory.fill(rank, 0, 64);
  let total: u32 = 0;
  for (let i: u32 = 0; i < nw; i++) {
    const wt = <u32>load<u8>(w + i);
    if (wt > HUF_MAX_BITS) { bad(p, "Huffman weight above " + HUF_MAX_BITS.toString()); return 0; }
    store<u32>(rank + (<usize>wt << 2), load<u32>(rank + (<usize>wt << 2)) + 1);
    if (wt > 0) total += <u32>1 << (wt - 1);
  }
  if (total == 0) { bad(p, "Huffman weights all zero"); return 0; }
  const maxBits = highBit(total) + 1;
  if (maxBits > HUF_MAX_BITS) { bad(p, "Huffman code longer than " + HUF_MAX_BITS.toString() + " bits"); return 0; }
  const rest = (<u32>1 << maxBits) - total;
  if ((rest & (rest - 1)) != 0) { bad(p, "Huffman weights do not form a prefix code"); return 0; }
  const lastW = highBit(rest) + 1;
  store<u8>(w + nw, <u8>lastW);
  store<u32>(rank + (<usize>lastW << 2), load<u32>(rank + (<usize>lastW << 2)) + 1);
  const ones = load<u32>(rank, 4);
  if (ones < 2 || (ones & 1) != 0) { bad(p, "Huffman tree is not complete"); return 0; }
  // Longer codes (smaller weights) take the lower table slots, symbols in order within a weight.
  let start: u32 = 0;
  for (let wt: u32 = 1; wt <= maxBits; wt++) {
    const c = load<u32>(rank + (<usize>wt << 2));
    store<u32>(rank + (<usize>wt << 2), start);
    start += c << (wt - 1);
  }
  const huf = scratch + OFF_HUF;
  const nsym = nw + 1;
  for (let s: u32 = 0; s < nsym; s++) {
    const wt = <u32>load<u8>(w + s);
    if (wt == 0) continue;
    const len: u32 = <u32>1 << (wt - 1);
    const at = load<u32>(rank + (<usize>wt << 2));
    store<u32>(rank + (<usize>wt << 2), at + len);
    const e = <u16>((s << 8) | (maxBits + 1 - wt));
    for (let i: u32 = 0; i < len; i++) store<u16>(huf + (<usize>(at + i) << 1), e);
  }
  hufBits = maxBits;
  hufValid = true;
  return p;
}

/** One Huffman stream [src, src+size) into exactly n bytes at dst. */
function hufStream(src: usize, size: usize, dst: usize, n: usize): bool {
  if (!brInit(src, size)) return false;
  let pos = bPos;
  let cont = bCont;
  const start = bStart;
  const limit = start + 8;
  const table = scratch + OFF_HUF;
  const shift = <u64>(64 - hufBits);
  const dEnd = dst + n;
  // Fast part: a refill leaves >= 57 bits, enough for 4 codes of <= 12 bits.
  while (dEnd - dst >= 4 && posPtr(pos) >= limit) {
    pos = refill(pos, start); cont = load<u64>(posPtr(pos));
    let e = <u32>load<u16>(table + (<usize>((cont << (pos & 63)) >> shift) << 1));
    store<u8>(dst, <u8>(e >> 8));
    pos += e & 0xff;
    e = <u32>load<u16>(table + (<usize>((cont << (pos & 63)) >> shift) << 1));
    store<u8>(dst, <u8>(e >> 8), 1);
    pos += e & 0xff;
    e = <u32>load<u16>(table + (<usize>((cont << (pos & 63)) >> shift) << 1));
    store<u8>(dst, <u8>(e >> 8), 2);
    pos += e & 0xff;
    e = <u32>load<u16>(table + (<usize>((cont << (pos & 63)) >> shift) << 1));
    store<u8>(dst, <u8>(e >> 8), 3);
    pos += e & 0xff;
    dst += 4;
  }
  // Tail: refill before every code; past the stream's start the reader
  // overruns (garbage bits, caught by the end check below).
  while (dst < dEnd) {
    pos = refill(pos, start); cont = load<u64>(posPtr(pos));
    const e = <u32>load<u16>(table + (<usize>((cont << (pos & 63)) >> shift) << 1));
    store<u8>(dst, <u8>(e >> 8));
    pos += e & 0xff;
    dst++;
  }
  if (!consumed(pos)) return bad(src, "Huffman stream not consumed exactly");
  return true;
}

// ---- blocks ------------------------------------------------------------------

let litSize: u32 = 0;

/** The literals section at [p, end) into the literals buffer. Returns the address after it, or 0. */
function readLiterals(p: usize, end: usize, blockMax: u32): usize {
  const lit = scratch + OFF_LIT;
  const b0 = <u32>load<u8>(p);
  const type = b0 & 3;
  const sf = (b0 >> 2) & 3;
  if (type < 2) {
    let hs: usize;
    let regen: u32;
    if ((sf & 1) == 0) {
      hs = 1;
      regen = b0 >> 3;
    } else if (sf == 1) {
      if (end - p < 2) { bad(p, "literals header truncated"); return 0; }
      hs = 2;
      regen = (b0 >> 4) | (<u32>load<u8>(p, 1) << 4);
    } else {
      if (end - p < 3) { bad(p, "literals header truncated"); return 0; }
      hs = 3;
      regen = (b0 >> 4) | (<u32>load<u8>(p, 1) << 4) | (<u32>load<u8>(p, 2) << 12);
    }
    if (regen > blockMax) { bad(p, "literals larger than the block maximum"); return 0; }
    p += hs;
    if (type == 0) {
      if (end - p < <usize>regen) { bad(p, "raw literals truncated"); return 0; }
      memory.copy(lit, p, regen);
      p += regen;
    } else {
      if (p >= end) { bad(p, "RLE literals truncated"); return 0; }
      memory.fill(lit, load<u8>(p), regen);
      p++;
    }
    litSize = regen;
    return p;
  }
  // Huffman-coded: sizes of 10, 10, 14 or 18 bits each, 1 stream for sf 0.
  const hs: usize = sf < 2 ? 3 : <usize>sf + 2;
  if (end - p < hs) { bad(p, "literals header truncated"); return 0; }
  let h: u64 = 0;
  for (let i: usize = 0; i < hs; i++) h |= <u64>load<u8>(p + i) << (<u64>i << 3);
  const bits: u64 = sf < 2 ? 10 : sf == 2 ? 14 : 18;
  const mask: u64 = (<u64>1 << bits) - 1;
  const regen = <u32>((h >> 4) & mask);
  const csize = <usize>((h >> (4 + bits)) & mask);
  const four = sf != 0;
  if (regen > blockMax) { bad(p, "literals larger than the block maximum"); return 0; }
  p += hs;
  if (end - p < csize) { bad(p, "compressed literals truncated"); return 0; }
  const cend = p + csize;
  if (type == 2) {
    p = readHuffTree(p, cend);
    if (p == 0) return 0;
  } else if (!hufValid) {
    bad(p, "treeless literals without a previous Huffman table");
    return 0;
  }
  if (!four) {
    if (!hufStream(p, cend - p, lit, regen)) return 0;
  } else {
    if (cend - p < 10 || regen < 6) { bad(p, "4-stream literals too small"); return 0; }
    const s1 = <usize>load<u16>(p);
    const s2 = <usize>load<u16>(p, 2);
    const s3 = <usize>load<u16>(p, 4);
    const total = cend - p - 6;
    if (s1 + s2 + s3 >= total) { bad(p, "Huffman jump table past the literals"); return 0; }
    const s4 = total - s1 - s2 - s3;
    const seg = <usize>((regen + 3) >> 2);
    const q = p + 6;
    if (!hufStream(q, s1, lit, seg)) return 0;
    if (!hufStream(q + s1, s2, lit + seg, seg)) return 0;
    if (!hufStream(q + s1 + s2, s3, lit + 2 * seg, seg)) return 0;
    if (!hufStream(q + s1 + s2 + s3, s4, lit + 3 * seg, <usize>regen - 3 * seg)) return 0;
  }
  litSize = regen;
  return cend;
}

/** One of the three sequence tables per its mode. Returns the address after its description, or 0. */
function selectTable(kind: i32, mode: u32, p: usize, end: usize): usize {
  const maxSym = kind == K_LL ? LL_MAX_SYM : kind == K_OF ? OF_MAX_SYM : ML_MAX_SYM;
  const maxLog = kind == K_LL ? LL_MAX_LOG : kind == K_OF ? OF_MAX_LOG : ML_MAX_LOG;
  const baseTab = kind == K_LL ? LL_BASE : kind == K_OF ? scratch + OFF_OFCODE : ML_BASE;
  const bitsTab = kind == K_LL ? LL_BITS : kind == K_OF ? scratch + OFF_OFCODE + 128 : ML_BITS;
  if (mode == 0) {
    unchecked(tabPtr[kind] = scratch + OFF_PRE + <usize>kind * 64 * 8);
    unchecked(tabLog[kind] = kind == K_OF ? 5 : 6);
  } else if (mode == 1) {
    if (p >= end) { bad(p, "RLE sequence code truncated"); return 0; }
    const s = <u32>load<u8>(p);
    if (s > maxSym) { bad(p, "RLE sequence code out of range"); return 0; }
    const cell = scratch + OFF_RLE + <usize>kind * 8;
    store<u16>(cell, 0);
    store<u8>(cell, 0, 2);
    store<u8>(cell, load<u8>(bitsTab + s), 3);
    store<u32>(cell, load<u32>(baseTab + (<usize>s << 2)), 4);
    unchecked(tabPtr[kind] = cell);
    unchecked(tabLog[kind] = 0);
    p++;
  } else if (mode == 2) {
    const used = readNCount(p, end, maxSym, maxLog);
    if (used < 0) return 0;
    const table = scratch + OFF_TAB + <usize>kind * 512 * 8;
    if (!buildFse(table, accLog, nSyms, baseTab, bitsTab)) return 0;
    unchecked(tabPtr[kind] = table);
    unchecked(tabLog[kind] = accLog);
    p += <usize>used;
  } else if (!unchecked(tabValid[kind])) {
    bad(p, "repeat sequence table without a previous table");
    return 0;
  }
  unchecked(tabValid[kind] = true);
  return p;
}

/**
 * Decode a compressed block [p, p+size) to dst. `frameStart` bounds match
 * offsets; at most `room` bytes may be written. Returns the bytes written,
 * -1 on a recorded failure, -2 when the output would exceed `room`.
 */
function decodeBlock(p: usize, size: usize, dst: usize, room: usize, frameStart: usize, blockMax: u32): i64 {
  const end = p + size;
  if (size == 0) { bad(p, "empty compressed block"); return -1; }
  p = readLiterals(p, end, blockMax);
  if (p == 0) return -1;
  const lit = scratch + OFF_LIT;
  const litEnd = lit + litSize;
  if (p >= end) { bad(p, "sequences section missing"); return -1; }
  let nbSeq = <u32>load<u8>(p);
  p++;
  if (nbSeq >= 128) {
    if (nbSeq == 255) {
      if (end - p < 2) { bad(p, "sequence count truncated"); return -1; }
      nbSeq = <u32>load<u16>(p) + 0x7f00;
      p += 2;
    } else {
      if (p >= end) { bad(p, "sequence count truncated"); return -1; }
      nbSeq = ((nbSeq - 128) << 8) + <u32>load<u8>(p);
      p++;
    }
  }
  if (nbSeq == 0) {
    if (p != end) { bad(p, "bytes after an empty sequences section"); return -1; }
    if (<usize>litSize > room) return -2;
    memory.copy(dst, lit, litSize);
    return litSize;
  }
  if (p >= end) { bad(p, "sequence modes truncated"); return -1; }
  const modes = <u32>load<u8>(p);
  p++;
  if ((modes & 3) != 0) { bad(p - 1, "reserved sequence mode bits set"); return -1; }
  p = selectTable(K_LL, modes >> 6, p, end);
  if (p == 0) return -1;
  p = selectTable(K_OF, (modes >> 4) & 3, p, end);
  if (p == 0) return -1;
  p = selectTable(K_ML, (modes >> 2) & 3, p, end);
  if (p == 0) return -1;
  if (!brInit(p, end - p)) return -1;

  const llT = unchecked(tabPtr[K_LL]);
  const ofT = unchecked(tabPtr[K_OF]);
  const mlT = unchecked(tabPtr[K_ML]);
  const start = bStart;
  let pos = bPos;
  let cont = bCont;
  let n = unchecked(tabLog[K_LL]);
  let llS = peek(cont, pos, n); pos += n;
  n = unchecked(tabLog[K_OF]);
  let ofS = peek(cont, pos, n); pos += n;
  n = unchecked(tabLog[K_ML]);
  let mlS = peek(cont, pos, n); pos += n;
  let r0 = rep0;
  let r1 = rep1;
  let r2 = rep2;
  let op = dst;
  const oLimit = dst + room;
  let lp = lit;

  for (let left = nbSeq; left > 0; left--) {
    // Refill: >= 57 bits unless near the stream's start.
    pos = refill(pos, start); cont = load<u64>(posPtr(pos));
    const llc = llT + (<usize>llS << 3);
    const mlc = mlT + (<usize>mlS << 3);
    const ofc = ofT + (<usize>ofS << 3);
    const ofBits = <u32>load<u8>(ofc, 3);
    const mlBits = <u32>load<u8>(mlc, 3);
    const llBits = <u32>load<u8>(llc, 3);
    const llBase = load<u32>(llc, 4);
    // Offset (up to 31 extra bits), then match length (up to 16).
    let offset: u32;
    if (ofBits > 1) {
      offset = load<u32>(ofc, 4) + peek(cont, pos, ofBits) - 3;
      pos += ofBits;
      r2 = r1; r1 = r0; r0 = offset;
    } else {
      // Repeat offsets; a zero literal length shifts the index by one.
      let idx = load<u32>(ofc, 4) - 1 + peek(cont, pos, ofBits) + (llBase == 0 ? 1 : 0);
      pos += ofBits;
      if (idx == 0) {
        offset = r0;
      } else if (idx == 1) {
        offset = r1; r1 = r0; r0 = offset;
      } else if (idx == 2) {
        offset = r2; r2 = r1; r1 = r0; r0 = offset;
      } else {
        offset = r0 - 1; r2 = r1; r1 = r0; r0 = offset;
      }
    }
    const ml = load<u32>(mlc, 4) + peek(cont, pos, mlBits);
    pos += mlBits;
    if (posUsed(pos) > 22) { pos = refill(pos, start); cont = load<u64>(posPtr(pos)); }
    const ll = llBase + peek(cont, pos, llBits);
    pos += llBits;
    if (left > 1) {
      // State updates, literal lengths first (<= 9 + 9 + 8 bits).
      n = <u32>load<u8>(llc, 2);
      llS = <u32>load<u16>(llc) + peek(cont, pos, n); pos += n;
      n = <u32>load<u8>(mlc, 2);
      mlS = <u32>load<u16>(mlc) + peek(cont, pos, n); pos += n;
      n = <u32>load<u8>(ofc, 2);
      ofS = <u32>load<u16>(ofc) + peek(cont, pos, n); pos += n;
    }

    // Execute: ll literals, then ml bytes from `offset` back.
    if (<usize>ll > litEnd - lp) { bad(end, "sequence literal length past the literals"); return -1; }
    if (<usize>ll + <usize>ml > oLimit - op) return -2;
    for (let i: usize = 0; i < <usize>ll; i += 16) {
      store<u64>(op + i, load<u64>(lp + i));
      store<u64>(op + i, load<u64>(lp + i, 8), 8);
    }
    op += ll;
    lp += ll;
    if (offset == 0 || <usize>offset > op - frameStart) { bad(end, "match offset before the frame start"); return -1; }
    let src = op - offset;
    const mend = op + ml;
    if (<usize>offset >= <usize>ml && ml > 64) {
      // A long match that does not overlap itself: the engine's memmove.
      memory.copy(op, src, ml);
    } else if (offset >= 16) {
      while (op < mend) {
        store<u64>(op, load<u64>(src));
        store<u64>(op, load<u64>(src, 8), 8);
        op += 16;
        src += 16;
      }
    } else if (offset >= 8) {
      while (op < mend) {
        store<u64>(op, load<u64>(src));
        op += 8;
        src += 8;
      }
    } else {
      // A short period: bytes one by one until the copy distance is a
      // multiple of the period >= 8, then 8 at a time from that distance.
      const dist = <usize>offset * ((8 + <usize>offset - 1) / <usize>offset);
      let k: usize = 0;
      const head = dist < <usize>ml ? dist : <usize>ml;
      while (k < head) { store<u8>(op + k, load<u8>(src + k)); k++; }
      while (k < <usize>ml) { store<u64>(op + k, load<u64>(op + k - dist)); k += 8; }
    }
    op = mend;
  }
  if (!consumed(pos)) { bad(end, "sequence bitstream not consumed exactly"); return -1; }
  rep0 = r0;
  rep1 = r1;
  rep2 = r2;
  const rest = litEnd - lp;
  if (rest > oLimit - op) return -2;
  memory.copy(op, lp, rest);
  op += rest;
  return <i64>(op - dst);
}

// ---- frames --------------------------------------------------------------

let gMax: u64 = 0;

/** Make room for `need` bytes of output in total (plus SLACK). */
function reserve(out: ByteSink, need: u64, exact: bool): void {
  const have = <u64>out.cap - SLACK;
  if (need <= have) return;
  let nc = exact ? need : have * 2;
  if (nc < need) nc = need;
  if (nc > gMax) nc = gMax > need ? gMax : need;
  out.ptr = heap.realloc(out.ptr, <usize>(nc + SLACK));
  out.cap = <u32>(nc + SLACK);
}

function tooLarge(p: usize): bool {
  return fail(Err.TOO_LARGE, <i64>(p - gSrc), 0, "zstd output exceeds the cap of " + gMax.toString() + " bytes");
}

/** One frame after its magic, appended to `out`. Returns the address after it, or 0. */
function decodeFrame(p: usize, end: usize, out: ByteSink): usize {
  const hdr = p - 4;
  if (p >= end) { bad(p, "frame header truncated"); return 0; }
  const fhd = <u32>load<u8>(p);
  const fcsFlag = fhd >> 6;
  const single = (fhd >> 5) & 1;
  const checksum = (fhd >> 2) & 1;
  const didFlag = fhd & 3;
  if ((fhd & 8) != 0) { bad(p, "reserved frame header bit set"); return 0; }
  const didLen: usize = didFlag == 3 ? 4 : <usize>didFlag;
  const fcsLen: usize = fcsFlag == 0 ? <usize>single : <usize>1 << fcsFlag;
  const hlen: usize = 1 + (single ? 0 : 1) + didLen + fcsLen;
  if (end - p < hlen) { bad(p, "frame header truncated"); return 0; }
  p++;
  let window: u64 = 0;
  if (!single) {
    const wd = <u32>load<u8>(p);
    p++;
    const wlog: u64 = 10 + <u64>(wd >> 3);
    const base: u64 = <u64>1 << wlog;
    window = base + (base >> 3) * <u64>(wd & 7);
  }
  let dictId: u32 = 0;
  for (let i: usize = 0; i < didLen; i++) dictId |= <u32>load<u8>(p + i) << (<u32>i << 3);
  if (dictId != 0) { fail(Err.BAD_COMPRESSED, <i64>(p - gSrc), 0, "zstd dictionary not supported"); return 0; }
  p += didLen;
  let fcs: u64 = 0;
  for (let i: usize = 0; i < fcsLen; i++) fcs |= <u64>load<u8>(p + i) << (<u64>i << 3);
  if (fcsLen == 2) fcs += 256;
  p += fcsLen;
  const hasFcs = fcsLen != 0;
  if (single) window = fcs;
  const blockMax: u32 = window < <u64>BLOCK_MAX ? <u32>window : BLOCK_MAX;

  const frameOff = <u64>out.len;
  if (hasFcs) {
    if (fcs > gMax - frameOff) { tooLarge(hdr); return 0; }
    // Sized once from the declared size, unless the claim is implausible
    // for the input left (a 20-byte frame declaring 500 MB): then the
    // buffer grows as blocks actually produce bytes.
    if (fcs <= <u64>(end - p) * PLAUSIBLE_RATIO) reserve(out, frameOff + fcs, true);
  }
  hufValid = false;
  unchecked(tabValid[0] = false);
  unchecked(tabValid[1] = false);
  unchecked(tabValid[2] = false);
  rep0 = 1;
  rep1 = 4;
  rep2 = 8;

  for (;;) {
    if (end - p < 3) { bad(p, "block header truncated"); return 0; }
    const bh = <u32>load<u16>(p) | (<u32>load<u8>(p, 2) << 16);
    const last = bh & 1;
    const type = (bh >> 1) & 3;
    const bsize = bh >> 3;
    const bp = p;
    p += 3;
    const len = <u64>out.len;
    if (type == 3) { bad(bp, "reserved block type"); return 0; }
    if (bsize > blockMax) { bad(bp, "block larger than the block maximum"); return 0; }
    // With a declared content size the frame may not outgrow it (and the
    // exactly sized buffer is not doubled for a last block).
    const fcsRoom: u64 = hasFcs ? frameOff + fcs - len : U64.MAX_VALUE;
    if (hasFcs && len > frameOff + fcs) { bad(bp, "frame content exceeds its declared size"); return 0; }
    if (type == 0 || type == 1) {
      if (<u64>bsize > fcsRoom) { bad(bp, "frame content exceeds its declared size"); return 0; }
      if (type == 0 && end - p < <usize>bsize) { bad(p, "raw block truncated"); return 0; }
      if (type == 1 && p >= end) { bad(p, "RLE block truncated"); return 0; }
      if (<u64>bsize > gMax - len) { tooLarge(bp); return 0; }
      reserve(out, len + bsize, last != 0);
      if (type == 0) {
        memory.copy(out.ptr + <usize>len, p, bsize);
        p += bsize;
      } else {
        memory.fill(out.ptr + <usize>len, load<u8>(p), bsize);
        p++;
      }
      out.len = <u32>(len + bsize);
    } else {
      if (end - p < <usize>bsize) { bad(p, "compressed block truncated"); return 0; }
      const capRoom = gMax - len;
      let room: u64 = capRoom < <u64>blockMax ? capRoom : <u64>blockMax;
      const byFcs = fcsRoom < room;
      if (byFcs) room = fcsRoom;
      // A last block grows the buffer by what it may need, not by doubling:
      // a buffer sized from a hint then ends at most 128 KiB too large.
      reserve(out, len + room, last != 0);
      const r = decodeBlock(p, bsize, out.ptr + <usize>len, <usize>room, out.ptr + <usize>frameOff, blockMax);
      if (r == -1) return 0;
      if (r == -2) {
        if (byFcs) bad(bp, "frame content exceeds its declared size");
        else if (room < <u64>blockMax) tooLarge(bp);
        else bad(bp, "block decompresses past the block maximum");
        return 0;
      }
      out.len = <u32>(len + <u64>r);
      p += bsize;
    }
    if (last) break;
  }
  const produced = <u64>out.len - frameOff;
  if (hasFcs && produced != fcs) {
    bad(hdr, "frame content size " + fcs.toString() + " but " + produced.toString() + " bytes decoded");
    return 0;
  }
  if (checksum) {
    if (end - p < 4) { bad(p, "content checksum truncated"); return 0; }
    const h = <u32>xxh64(out.ptr + <usize>frameOff, <usize>produced);
    if (h != load<u32>(p)) { bad(p, "content checksum mismatch"); return 0; }
    p += 4;
  }
  return p;
}

/**
 * Decompress every frame in [src, src+len) into `out` (skippable frames
 * are skipped). At most `max` bytes are produced: TOO_LARGE beyond that.
 */
export function zstdDecompress(src: usize, len: usize, out: ByteSink, max: u64): bool {
  zstdInit();
  gSrc = src;
  gMax = max < CORE_MAX ? max : CORE_MAX;
  const end = src + len;
  let p = src;
  let frames = 0;
  while (p < end) {
    if (end - p < 4) return bad(p, "trailing bytes after the last frame");
    const magic = load<u32>(p);
    if ((magic & 0xfffffff0) == 0x184d2a50) {
      if (end - p < 8) return bad(p, "skippable frame header truncated");
      const sz = <usize>load<u32>(p, 4);
      if (sz > end - p - 8) return bad(p, "skippable frame past the end of the input");
      p += 8 + sz;
      continue;
    }
    if (magic != 0xfd2fb528) return bad(p, frames == 0 ? "not a zstd frame" : "trailing bytes after the last frame");
    p = decodeFrame(p + 4, end, out);
    if (p == 0) return false;
    frames++;
  }
  if (frames == 0) return bad(p, "no zstd frame");
  return true;
}

// ---- views for the unit specs (assembly/__tests__/zstd.spec.ts) -------------

/** Read a Huffman tree description (readHuffTree): the address after it, or 0. */
export function huffTreeForSpec(p: usize, end: usize): usize { return readHuffTree(p, end); }
/** Entry `i` of the current Huffman decode table: symbol << 8 | code length. */
export function hufEntryForSpec(i: u32): u32 { return <u32>load<u16>(scratch + OFF_HUF + (<usize>i << 1)); }
/** Longest code of the current Huffman table. */
export function hufBitsForSpec(): u32 { return hufBits; }
/** Cell `state` of a predefined FSE table (0 literal lengths, 1 offsets, 2 match lengths). */
export function predefinedCellForSpec(kind: i32, state: u32): usize { return scratch + OFF_PRE + <usize>kind * 64 * 8 + (<usize>state << 3); }
