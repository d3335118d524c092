// String tables. `StrIndex` maps string contents to offsets in an existing
// string section (libbpf's strset over existing data: first occurrence wins,
// whole strings only). `StrSet` is the writer side: an append-only section
// with exact-match dedup in first-insertion order, as libbpf's strset.

import { cstrHash, cstreq, cstrlen, nextPow2 } from "./bytes";
import { ByteSink } from "./sink";

const EMPTY: u32 = 0xffffffff;

/**
 * Open-addressing hash table from string content to an offset. Offsets are
 * resolved to memory through `base + off`; the table stores offsets only,
 * each beside its string's cstrHash, so probes rarely compare bytes and
 * growth never hashes a string again.
 */
export class StrIndex {
  /** Slot pairs of u32: hash, offset (EMPTY when free). */
  slots: usize = 0;
  mask: u32 = 0;
  size: u32 = 0;
  /** Address of offset 0 of the string section this table indexes. */
  base: usize = 0;

  constructor(base: usize, expected: u32) {
    this.base = base;
    const cap = nextPow2(max<u32>(16, expected * 2));
    this.mask = cap - 1;
    this.slots = StrIndex.emptySlots(cap);
  }

  private static emptySlots(cap: u32): usize {
    const p = heap.alloc(<usize>cap << 3);
    memory.fill(p, 0xff, <usize>cap << 3);
    return p;
  }

  /** Find the offset of the string at `p`, or -1. */
  @inline find(p: usize): i64 { return this.findHashed(p, cstrHash(p)); }

  /** find() with the string's cstrHash already computed. */
  findHashed(p: usize, hash: u32): i64 {
    const mask = this.mask;
    let i = hash & mask;
    while (true) {
      const a = this.slots + (<usize>i << 3);
      const off = load<u32>(a, 4);
      if (off == EMPTY) return -1;
      if (load<u32>(a) == hash && cstreq(this.base + off, p)) return <i64>off;
      i = (i + 1) & mask;
    }
  }

  /** Insert `off` (the string at base+off) unless an equal string is present. Returns the stored offset. */
  insert(off: u32): u32 {
    const p = this.base + off;
    const hash = cstrHash(p);
    const found = this.findHashed(p, hash);
    if (found >= 0) return <u32>found;
    this.insertAbsent(off, hash);
    return off;
  }

  /**
   * Insert `off` whose string (hash `hash`) is known to be absent: a probe
   * for a free slot, without hashing or comparing again (StrSet.add has
   * just looked it up).
   */
  insertAbsent(off: u32, hash: u32): void {
    if ((this.size + 1) * 4 > (this.mask + 1) * 3) this.rehash();
    const mask = this.mask;
    let i = hash & mask;
    while (load<u32>(this.slots + (<usize>i << 3), 4) != EMPTY) i = (i + 1) & mask;
    const a = this.slots + (<usize>i << 3);
    store<u32>(a, hash);
    store<u32>(a, off, 4);
    this.size++;
  }

  /** The string data may move (a growing sink): tell the table where it is now. */
  rebase(base: usize): void { this.base = base; }

  private rehash(): void {
    const oldSlots = this.slots;
    const oldCap = this.mask + 1;
    const cap = oldCap << 1;
    const mask = cap - 1;
    this.mask = mask;
    this.slots = StrIndex.emptySlots(cap);
    for (let j: u32 = 0; j < oldCap; j++) {
      const a = oldSlots + (<usize>j << 3);
      if (load<u32>(a, 4) == EMPTY) continue;
      let i = load<u32>(a) & mask;
      while (load<u32>(this.slots + (<usize>i << 3), 4) != EMPTY) i = (i + 1) & mask;
      store<u64>(this.slots + (<usize>i << 3), load<u64>(a));
    }
    heap.free(oldSlots);
  }

  dispose(): void {
    if (this.slots != 0) heap.free(this.slots);
    this.slots = 0;
  }
}

/** Index every whole string of a section [p, p+len): first occurrence wins. */
export function indexSection(p: usize, len: u32): StrIndex {
  // Rough count for sizing: one string per ~16 bytes.
  const t = new StrIndex(p, len / 16 + 16);
  let off: u32 = 0;
  while (off < len) {
    t.insert(off);
    off += cstrlen(p + off) + 1;
  }
  return t;
}

/**
 * A string section being written (libbpf's strset): strings in
 * first-insertion order, exact-match dedup. Offsets are local to this
 * section; split writers add their `startStrOff` themselves. Offset 0 is ""
 * when `withEmpty`.
 */
export class StrSet {
  data: ByteSink;
  index: StrIndex;
  /**
   * Most bytes the section may take. Dedup sets it: offsets into the middle
   * of strings make every suffix its own string, so a crafted input could
   * ask for a section quadratic in its size; an add() past it sets
   * `overflow`, returns 0 and writes nothing, and the owner fails.
   */
  limit: u64;
  overflow: bool = false;

  constructor(withEmpty: bool, expectStrings: u32 = 1024, expectBytes: u32 = 4096, limit: u64 = 0xffffffff) {
    const data = new ByteSink(max<u32>(expectBytes, 64));
    this.data = data;
    this.limit = limit;
    this.index = new StrIndex(data.ptr, expectStrings);
    if (withEmpty) {
      // "" at offset 0, as libbpf's strset__add_str(""): an empty string
      // met at another offset then maps to 0.
      this.data.byte(0);
      this.index.rebase(this.data.ptr);
      this.index.insert(0);
    }
  }

  get len(): u32 { return this.data.len; }

  /** Find a string given by address; returns its local offset or -1. */
  find(p: usize): i64 {
    this.index.rebase(this.data.ptr);
    return this.index.find(p);
  }

  /** Add the NUL-terminated string at `p` (which must not point into this set). */
  @inline add(p: usize): u32 { return this.addHashed(p, cstrHash(p)); }

  /** add() with the string's cstrHash already computed: one hash for the lookup and the insertion. */
  addHashed(p: usize, h: u32): u32 {
    this.index.rebase(this.data.ptr);
    const found = this.index.findHashed(p, h);
    if (found >= 0) return <u32>found;
    const off = this.data.len;
    const n = cstrlen(p);
    if (<u64>off + n + 1 > this.limit) {
      this.overflow = true;
      return 0;
    }
    this.data.bytes(p, n);
    this.data.byte(0);
    this.index.rebase(this.data.ptr);
    this.index.insertAbsent(off, h);
    return off;
  }

  /** Add an ASCII literal. */
  addLit(s: string): u32 {
    const tmp = String.UTF8.encode(s, true);
    return this.add(changetype<usize>(tmp));
  }

  /** The lookup slots are done with once the section is complete: free them for later phases. */
  dropIndex(): void { this.index.dispose(); }

  dispose(): void {
    this.data.dispose();
    this.index.dispose();
  }
}
