// LZMA2 (as the xz container carries it) and the LZMA range-coded decoder
// under it, following the structure of the format as xz-embedded and liblzma
// decode it (lzma2 chunk headers, range decoder, literal/match/rep state
// machine, length and distance coders), in our own code.
//
// The dictionary is the output buffer itself: the caller decodes a whole
// xz stream into one flat ByteSink, so a match may reach back to the last
// dictionary reset and no further (checked per match). The buffer grows
// geometrically up to the caller's cap, chunk by chunk: every LZMA2 chunk
// declares its uncompressed size (<= 2 MiB) before it is decoded.
//
// Bounds: every LZMA2 chunk declares its compressed size too, and the range
// decoder reads only inside it. A read past its end yields zero bytes but is
// counted, and the chunk fails unless exactly its bytes were consumed; each
// loop iteration produces at least one output byte, so a chunk's loop ends
// after at most its declared size.

import { Err, fail } from "./errors";
import { ByteSink } from "./sink";

/** Spare bytes after the output. */
export const LZ_SLACK: u32 = 16;
/** The largest output the core agrees to hold (TLSF blocks are < 1 GiB). */
const CORE_MAX: u64 = (1 << 30) - (1 << 20);

// Probability array layout (u16 cells).
const IS_MATCH: u32 = 0; // 12 states x 16 pos states
const IS_REP: u32 = 192;
const IS_REP_G0: u32 = 204;
const IS_REP_G1: u32 = 216;
const IS_REP_G2: u32 = 228;
const IS_REP0_LONG: u32 = 240; // 12 x 16
const DIST_SLOT: u32 = 432; // 4 length states x 64
const DIST_SPECIAL: u32 = 688; // 114
const DIST_ALIGN: u32 = 802; // 16
const MATCH_LEN: u32 = 818; // length coder: choice, choice2, low 16x8, mid 16x8, high 256
const REP_LEN: u32 = MATCH_LEN + 514;
const LITERAL: u32 = REP_LEN + 514; // 0x300 per literal context, at most 16 contexts
const PROB_COUNT: u32 = LITERAL + 0x300 * 16;

let probs: usize = 0;

// Decoder state kept across the chunks of an LZMA2 stream.
let state: u32 = 0;
let rep0: u32 = 0;
let rep1: u32 = 0;
let rep2: u32 = 0;
let rep3: u32 = 0;
let dictSize: u32 = 0; // from the LZMA2 filter properties: no match reaches further back
let lc: u32 = 3;
let lpMask: u32 = 0;
let pbMask: u32 = 3;

// The range decoder.
let rcRange: u32 = 0;
let rcCode: u32 = 0;
let rcP: usize = 0;
let rcEnd: usize = 0;

let gSrc: usize = 0;
let gMax: u64 = 0;

function bad(p: usize, msg: string): bool {
  return fail(Err.BAD_COMPRESSED, <i64>(p - gSrc), 0, "xz: " + msg);
}

/** Set the input base (for error offsets) and the output cap for the next decode. */
export function lzmaBegin(src: usize, max: u64): void {
  gSrc = src;
  gMax = max < CORE_MAX ? max : CORE_MAX;
  if (probs == 0) probs = heap.alloc(<usize>PROB_COUNT * 2);
}

export function lzmaMax(): u64 { return gMax; }

export function tooLarge(p: usize): bool {
  return fail(Err.TOO_LARGE, <i64>(p - gSrc), 0, "xz output exceeds the cap of " + gMax.toString() + " bytes");
}

/** Make room for `need` bytes of output in total (plus slack): doubling, or exactly. */
export function reserve(out: ByteSink, need: u64, exact: bool): void {
  const have = <u64>out.cap - LZ_SLACK;
  if (need <= have) return;
  let nc = exact ? need : have * 2;
  if (nc < need) nc = need;
  if (nc > gMax) nc = gMax > need ? gMax : need;
  out.ptr = heap.realloc(out.ptr, <usize>(nc + LZ_SLACK));
  out.cap = <u32>(nc + LZ_SLACK);
}

function resetState(): void {
  const n = <usize>PROB_COUNT;
  for (let i: usize = 0; i < n; i++) store<u16>(probs + (i << 1), 1024);
  state = 0;
  rep0 = 0; rep1 = 0; rep2 = 0; rep3 = 0;
}

// ---- range decoder ---------------------------------------------------------

@inline function normalize(): void {
  if (rcRange < 0x1000000) {
    rcRange <<= 8;
    rcCode = (rcCode << 8) | (rcP < rcEnd ? <u32>load<u8>(rcP) : 0);
    rcP++;
  }
}

@inline function bit(pr: usize): u32 {
  normalize();
  const p = <u32>load<u16>(pr);
  const bound = (rcRange >>> 11) * p;
  if (rcCode < bound) {
    rcRange = bound;
    store<u16>(pr, <u16>(p + ((2048 - p) >>> 5)));
    return 0;
  }
  rcRange -= bound;
  rcCode -= bound;
  store<u16>(pr, <u16>(p - (p >>> 5)));
  return 1;
}

/** A bit tree of `bits` levels rooted at probs cell `base` (cell 1 is the root). */
@inline function tree(base: u32, bits: u32): u32 {
  const pb = probs + (<usize>base << 1);
  const top: u32 = <u32>1 << bits;
  let sym: u32 = 1;
  do sym = (sym << 1) | bit(pb + (<usize>sym << 1)); while (sym < top);
  return sym - top;
}

/** A reverse bit tree (least significant bit first). */
@inline function reverseTree(base: u32, bits: u32): u32 {
  const pb = probs + (<usize>base << 1);
  let sym: u32 = 1;
  let v: u32 = 0;
  for (let i: u32 = 0; i < bits; i++) {
    const b = bit(pb + (<usize>sym << 1));
    sym = (sym << 1) | b;
    v |= b << i;
  }
  return v;
}

function directBits(n: u32): u32 {
  let v: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    normalize();
    rcRange >>>= 1;
    const b: u32 = rcCode >= rcRange ? 1 : 0;
    if (b) rcCode -= rcRange;
    v = (v << 1) | b;
  }
  return v;
}

/** A match or rep length (2..273). */
function decodeLen(base: u32, posState: u32): u32 {
  const pb = probs + (<usize>base << 1);
  if (bit(pb) == 0) return 2 + tree(base + 2 + (posState << 3), 3);
  if (bit(pb + 2) == 0) return 10 + tree(base + 130 + (posState << 3), 3);
  return 18 + tree(base + 258, 8);
}

/** A match distance (minus one) for a match of length `len`. */
function decodeDist(len: u32): u32 {
  const lenState: u32 = len < 6 ? len - 2 : 3;
  const slot = tree(DIST_SLOT + (lenState << 6), 6);
  if (slot < 4) return slot;
  const n = (slot >> 1) - 1;
  let dist: u32 = (2 | (slot & 1)) << n;
  if (slot < 14) return dist + reverseTree(DIST_SPECIAL + dist - slot - 1, n);
  dist += directBits(n - 4) << 4;
  return dist + reverseTree(DIST_ALIGN, 4);
}

// ---- one LZMA chunk ----------------------------------------------------------

/**
 * Decode the LZMA chunk [src, srcEnd) into [op, limit) of the output, whose
 * dictionary starts at `dict`. Returns false with the error recorded.
 */
function lzmaChunk(src: usize, srcEnd: usize, dict: usize, op: usize, limit: usize): bool {
  if (srcEnd - src < 5) return bad(src, "LZMA chunk shorter than the range coder's 5 init bytes");
  if (load<u8>(src) != 0) return bad(src, "LZMA range coder init byte not zero");
  rcCode = bswap<u32>(load<u32>(src, 1));
  rcRange = 0xffffffff;
  rcP = src + 5;
  rcEnd = srcEnd;
  const lcShift = 8 - lc;
  const lit0 = probs + (<usize>LITERAL << 1);
  while (op < limit) {
    if (rcP > rcEnd) return bad(rcEnd, "LZMA chunk data ends early");
    const pos = <u32>(op - dict);
    const posState = pos & pbMask;
    if (bit(probs + (<usize>(IS_MATCH + (state << 4) + posState) << 1)) == 0) {
      // A literal, coded against the byte at rep0 after a match.
      const prev: u32 = op > dict ? <u32>load<u8>(op - 1) : 0;
      const lp = lit0 + <usize>(0x300 * (((pos & lpMask) << lc) + (prev >> lcShift))) * 2;
      let sym: u32 = 1;
      if (state < 7) {
        do sym = (sym << 1) | bit(lp + (<usize>sym << 1)); while (sym < 0x100);
      } else {
        if (<usize>rep0 >= op - dict) return bad(rcP, "LZMA match distance before the dictionary start");
        let matchByte: u32 = <u32>load<u8>(op - <usize>rep0 - 1);
        let offset: u32 = 0x100;
        do {
          matchByte <<= 1;
          const mb = matchByte & offset;
          const b = bit(lp + (<usize>(offset + mb + sym) << 1));
          sym = (sym << 1) | b;
          offset = b ? mb : offset & ~mb;
        } while (sym < 0x100);
      }
      store<u8>(op, <u8>sym);
      op++;
      state = state < 4 ? 0 : (state < 10 ? state - 3 : state - 6);
      continue;
    }
    let len: u32;
    if (bit(probs + (<usize>(IS_REP + state) << 1)) == 0) {
      // A new match.
      rep3 = rep2; rep2 = rep1; rep1 = rep0;
      len = decodeLen(MATCH_LEN, posState);
      state = state < 7 ? 7 : 10;
      rep0 = decodeDist(len);
      if (rep0 == 0xffffffff) return bad(rcP, "LZMA end marker inside an LZMA2 chunk");
      if (rep0 >= dictSize) return bad(rcP, "LZMA match distance beyond the dictionary size");
    } else {
      if (bit(probs + (<usize>(IS_REP_G0 + state) << 1)) == 0) {
        if (bit(probs + (<usize>(IS_REP0_LONG + (state << 4) + posState) << 1)) == 0) {
          // A short rep: one byte at rep0.
          if (<usize>rep0 >= op - dict) return bad(rcP, "LZMA match distance before the dictionary start");
          store<u8>(op, load<u8>(op - <usize>rep0 - 1));
          op++;
          state = state < 7 ? 9 : 11;
          continue;
        }
      } else {
        let d: u32;
        if (bit(probs + (<usize>(IS_REP_G1 + state) << 1)) == 0) {
          d = rep1;
        } else {
          if (bit(probs + (<usize>(IS_REP_G2 + state) << 1)) == 0) {
            d = rep2;
          } else {
            d = rep3;
            rep3 = rep2;
          }
          rep2 = rep1;
        }
        rep1 = rep0;
        rep0 = d;
      }
      len = decodeLen(REP_LEN, posState);
      state = state < 7 ? 8 : 11;
    }
    if (<usize>rep0 >= op - dict) return bad(rcP, "LZMA match distance before the dictionary start");
    if (<usize>len > limit - op) return bad(rcP, "LZMA match runs past the chunk's uncompressed size");
    const from = op - <usize>rep0 - 1;
    if (<usize>rep0 + 1 >= <usize>len) {
      memory.copy(op, from, len);
    } else {
      for (let i: usize = 0; i < <usize>len; i++) store<u8>(op + i, load<u8>(from + i));
    }
    op += len;
  }
  // The encoder flushes the range coder fully: a last normalisation takes
  // the byte that the final bit's lazy normalisation has not read yet.
  normalize();
  if (rcP != rcEnd) return bad(rcP > rcEnd ? rcEnd : rcP, "LZMA chunk size does not match its data");
  if (rcCode != 0) return bad(rcEnd, "LZMA chunk ends with a non-zero range coder state");
  return true;
}

// ---- LZMA2 -----------------------------------------------------------------

/**
 * Decode the LZMA2 stream at [p, end) (up to and including its end byte),
 * appending to `out`. Returns the address after the end byte, or 0 with
 * the error recorded (BAD_COMPRESSED, TOO_LARGE). `dictProp` is the LZMA2
 * filter's properties byte.
 */
export function lzma2Decode(p: usize, end: usize, out: ByteSink, dictProp: u32): usize {
  // The dictionary size byte (<= 40, checked by the caller): 2 or 3 times a
  // power of two, 40 meaning 4 GiB - 1.
  dictSize = dictProp >= 40 ? 0xffffffff : (2 | (dictProp & 1)) << (dictProp / 2 + 11);
  let needDictReset = true;
  let needProps = true;
  let dictStart: u64 = <u64>out.len;
  for (;;) {
    if (p >= end) { bad(p, "LZMA2 data truncated"); return 0; }
    const c = <u32>load<u8>(p);
    if (c == 0) return p + 1;
    if (c >= 0xe0 || c == 1) {
      needProps = true;
      needDictReset = false;
      dictStart = <u64>out.len;
    } else if (needDictReset) {
      bad(p, "LZMA2 stream does not start with a dictionary reset"); return 0;
    }
    const len = <u64>out.len;
    if (c >= 0x80) {
      if (end - p < 6) { bad(p, "LZMA2 chunk header truncated"); return 0; }
      const unc = (<u64>(c & 0x1f) << 16) + ((<u64>load<u8>(p, 1) << 8) | <u64>load<u8>(p, 2)) + 1;
      const comp = ((<usize>load<u8>(p, 3) << 8) | <usize>load<u8>(p, 4)) + 1;
      let hdr: usize = 5;
      if (c >= 0xc0) {
        const props = <u32>load<u8>(p, 5);
        if (props >= 9 * 5 * 5) { bad(p + 5, "LZMA properties byte out of range"); return 0; }
        lc = props % 9;
        const lpb = props / 9;
        const lpBits = lpb % 5;
        const pbBits = lpb / 5;
        if (lc + lpBits > 4) { bad(p + 5, "LZMA2 needs lc + lp <= 4"); return 0; }
        lpMask = (<u32>1 << lpBits) - 1;
        pbMask = (<u32>1 << pbBits) - 1;
        needProps = false;
        hdr = 6;
        resetState();
      } else if (needProps) {
        bad(p, "LZMA2 chunk without properties after a dictionary reset"); return 0;
      } else if (c >= 0xa0) {
        resetState();
      }
      if (end - p - hdr < comp) { bad(p, "LZMA2 chunk truncated"); return 0; }
      if (unc > gMax - len) { tooLarge(p); return 0; }
      reserve(out, len + unc, false);
      const base = out.ptr;
      if (!lzmaChunk(p + hdr, p + hdr + comp, base + <usize>dictStart, base + <usize>len, base + <usize>(len + unc))) return 0;
      out.len = <u32>(len + unc);
      p += hdr + comp;
    } else if (c <= 2) {
      if (end - p < 3) { bad(p, "LZMA2 chunk header truncated"); return 0; }
      const n = ((<usize>load<u8>(p, 1) << 8) | <usize>load<u8>(p, 2)) + 1;
      if (end - p - 3 < n) { bad(p, "LZMA2 uncompressed chunk truncated"); return 0; }
      if (<u64>n > gMax - len) { tooLarge(p); return 0; }
      reserve(out, len + n, false);
      memory.copy(out.ptr + <usize>len, p + 3, n);
      out.len = <u32>(len + n);
      p += 3 + n;
    } else {
      bad(p, "invalid LZMA2 control byte 0x" + c.toString(16)); return 0;
    }
  }
  return 0;
}
