// Dedup's two tables (dedup.ts): libbpf's candidate hashmap, emulated entry
// for entry because dedup's output depends on its iteration order, and the
// old -> new string offset memo of the string phase.

import { U32Map } from "./u32map";

/** map[] state libbpf calls BTF_UNPROCESSED_ID; also "no entry" here. */
export const UNPROCESSED: u32 = 0xffffffff;

/** Golden ratio multiplier of libbpf's hash_bits (LP64). */
export const HASH_MUL: u64 = 0x9E3779B97F4A7C15;

// ---- small unmanaged helpers ---------------------------------------------

@inline export function ld(base: usize, i: u32): u32 { return load<u32>(base + (<usize>i << 2)); }
@inline export function st(base: usize, i: u32, v: u32): void { store<u32>(base + (<usize>i << 2), v); }

export function allocU32(n: u32, fill: u32): usize {
  const bytes = (<usize>n << 2) + 4;
  const p = heap.alloc(bytes);
  memory.fill(p, fill == 0 ? 0 : 0xff, bytes);
  if (fill != 0 && fill != 0xffffffff) for (let i: u32 = 0; i < n; i++) st(p, i, fill);
  return p;
}

// ---- libbpf's hashmap, as a multimap of candidates -------------------------

/**
 * Emulates libbpf's `struct hashmap` with HASHMAP_APPEND inserts: chains of
 * entries per bucket, new entries prepended, growth when
 * (size + 1) * 4 / 3 > cap to cap_bits + 1 (at least 2), rehash walking the
 * old buckets 0..cap-1 head to tail and prepending into the new ones.
 * Entry i lives at index i; links are index + 1 (0 ends a chain).
 */
export class CandTable {
  /** Entries of 16 bytes: key (u64), value (u32), next link (u32). */
  ents: usize;
  buckets: usize = 0;
  capBits: u32 = 0;
  cap: u32 = 0;
  size: u32 = 0;

  constructor(maxEntries: u32) {
    this.ents = heap.alloc((<usize>maxEntries + 1) << 4);
  }

  @inline bucketOf(key: u64, bits: u32): u32 {
    return bits == 0 ? 0 : <u32>((key * HASH_MUL) >> (64 - <u64>bits));
  }

  /** First link of the chain that candidates for `key` are on (0: none). */
  @inline head(key: u64): u32 {
    if (this.cap == 0) return 0;
    return ld(this.buckets, this.bucketOf(key, this.capBits));
  }

  @inline entry(link: u32): usize { return this.ents + (<usize>(link - 1) << 4); }
  @inline keyAt(link: u32): u64 { return load<u64>(this.entry(link)); }
  @inline valAt(link: u32): u32 { return load<u32>(this.entry(link), 8); }
  @inline nextOf(link: u32): u32 { return load<u32>(this.entry(link), 12); }

  insert(key: u64, val: u32): void {
    if (this.cap == 0 || ((<u64>this.size + 1) * 4) / 3 > <u64>this.cap) this.grow();
    const b = this.bucketOf(key, this.capBits);
    const e = this.ents + (<usize>this.size << 4);
    store<u64>(e, key);
    store<u32>(e, val, 8);
    store<u32>(e, ld(this.buckets, b), 12);
    this.size++;
    st(this.buckets, b, this.size);
  }

  private grow(): void {
    let bits = this.capBits + 1;
    if (bits < 2) bits = 2;
    const cap: u32 = <u32>1 << bits;
    const nb = allocU32(cap, 0);
    const old = this.buckets;
    for (let b: u32 = 0; b < this.cap; b++) {
      let link = ld(old, b);
      while (link != 0) {
        const e = this.entry(link);
        const nx = load<u32>(e, 12);
        const h = this.bucketOf(load<u64>(e), bits);
        store<u32>(e, ld(nb, h), 12);
        st(nb, h, link);
        link = nx;
      }
    }
    if (old != 0) heap.free(old);
    this.buckets = nb;
    this.cap = cap;
    this.capBits = bits;
  }

  dispose(): void {
    heap.free(this.ents);
    if (this.buckets != 0) heap.free(this.buckets);
    this.buckets = 0;
  }
}

// ---- old string offset -> new offset ----------------------------------------

/**
 * Old string offset -> new offset. Offsets at the start of a string (all
 * of them, in BTF that pahole or libbpf wrote) are numbered by their rank in
 * a bitmap of string starts, so the memo is one u32 per string and stays
 * cache-sized; offsets into the middle of a string go to a hash memo.
 */
export class StrMemo {
  sec: usize;
  len: u32;
  /** Bit i: a string starts at offset i. */
  bits: usize;
  /** Per 64-bit word of `bits`: the number of starts before it. */
  rank: usize;
  words: u32;
  vals: usize = 0;
  /** Offsets into the middle of a string (crafted input only). */
  mid: U32Map | null = null;

  constructor(sec: usize, len: u32) {
    this.sec = sec;
    this.len = len;
    const words = (len + 63) >> 6;
    this.words = words;
    this.bits = heap.alloc((<usize>words << 3) + 8);
    this.rank = heap.alloc((<usize>words << 2) + 4);
  }

  /**
   * Mark the string starts of bitmap words [from, to): offset 0 and every
   * offset after a NUL. Eight bytes at a time: a byte-wise "is zero" test
   * whose flags are gathered into one byte by a multiply.
   */
  scan(from: u32, to: u32): void {
    const sec = this.sec;
    const len = this.len;
    for (let w = from; w < to; w++) {
      const b0 = w << 6;
      // Was the byte before this word's first one a NUL (or is this offset 0)?
      let carry: u64 = b0 == 0 ? 1 : (load<u8>(sec + <usize>(b0 - 1)) == 0 ? 1 : 0);
      let word: u64 = 0;
      for (let g: u32 = 0; g < 8; g++) {
        const at = b0 + (g << 3);
        if (at >= len) break;
        let z: u64;
        if (len - at >= 8) {
          const v = load<u64>(sec + <usize>at);
          const nz = (((v & 0x7F7F7F7F7F7F7F7F) + 0x7F7F7F7F7F7F7F7F) | v) & 0x8080808080808080;
          const zh = ~nz & 0x8080808080808080;
          z = ((zh >> 7) * 0x0102040810204080) >> 56;
        } else {
          z = 0;
          for (let k: u32 = 0; at + k < len; k++) if (load<u8>(sec + <usize>(at + k)) == 0) z |= <u64>1 << k;
        }
        word |= (((z << 1) | carry) & 0xff) << (<u64>g << 3);
        carry = z >> 7;
      }
      // No string starts at or past the end.
      if (len - b0 < 64) word &= (<u64>1 << <u64>(len - b0)) - 1;
      store<u64>(this.bits + (<usize>w << 3), word);
    }
  }

  /** After the scan: ranks, and the memo proper. */
  finish(): void {
    let count: u32 = 0;
    for (let w: u32 = 0; w < this.words; w++) {
      st(this.rank, w, count);
      count += <u32>popcnt(load<u64>(this.bits + (<usize>w << 3)));
    }
    this.vals = allocU32(count, UNPROCESSED);
  }

  /** Index of `local` in vals, or -1 when it is not the start of a string. */
  @inline slot(local: u32): i32 {
    const w = local >> 6;
    const word = load<u64>(this.bits + (<usize>w << 3));
    const bit = <u64>(local & 63);
    if (((word >> bit) & 1) == 0) return -1;
    return <i32>(ld(this.rank, w) + <u32>popcnt(word & ((<u64>1 << bit) - 1)));
  }

  @inline get(local: u32): u32 {
    const i = this.slot(local);
    if (i >= 0) return ld(this.vals, <u32>i);
    return this.mid === null ? UNPROCESSED : this.mid!.get(local, UNPROCESSED);
  }

  set(local: u32, v: u32): void {
    const i = this.slot(local);
    if (i >= 0) { st(this.vals, <u32>i, v); return; }
    if (this.mid === null) this.mid = new U32Map(64);
    this.mid!.set(local, v);
  }

  dispose(): void {
    heap.free(this.bits);
    heap.free(this.rank);
    if (this.vals != 0) heap.free(this.vals);
    if (this.mid !== null) this.mid!.dispose();
  }
}

