// String tables. `StrIndex` maps string contents to offsets in an existing
// string section (libbpf's strset over existing data: first occurrence wins,
// whole strings only). `StrSet` is the writer side: an append-only section
// with exact-match dedup in first-insertion order, as libbpf's strset.

import { cstrHash, cstreq, cstrlen, nextPow2 } from "./bytes";
import { ByteSink } from "./sink";

const EMPTY: u32 = 0xffffffff;

/**
 * Open-addressing hash table from string content to an offset. Offsets are
 * resolved to memory through `base + off`; the table stores offsets only.
 */
export class StrIndex {
  slots: usize = 0; // u32 offsets, EMPTY when free
  mask: u32 = 0;
  size: u32 = 0;
  /** Address of offset 0 of the string section this table indexes. */
  base: usize = 0;

  constructor(base: usize, expected: u32) {
    this.base = base;
    const cap = nextPow2(max<u32>(16, expected * 2));
    this.mask = cap - 1;
    this.slots = heap.alloc(<usize>cap << 2);
    memory.fill(this.slots, 0xff, <usize>cap << 2);
  }

  /** Find the offset of the string at `p`, or -1. */
  @inline find(p: usize): i64 { return this.findHashed(p, cstrHash(p)); }

  /** find() with the string's cstrHash already computed. */
  findHashed(p: usize, hash: u32): i64 {
    const mask = this.mask;
    let i = hash & mask;
    while (true) {
      const off = load<u32>(this.slots + (<usize>i << 2));
      if (off == EMPTY) return -1;
      if (cstreq(this.base + off, p)) return <i64>off;
      i = (i + 1) & mask;
    }
  }

  /** Insert `off` (the string at base+off) unless an equal string is present. Returns the stored offset. */
  insert(off: u32): u32 {
    if ((this.size + 1) * 4 > (this.mask + 1) * 3) this.rehash();
    const p = this.base + off;
    const mask = this.mask;
    let i = cstrHash(p) & mask;
    while (true) {
      const a = this.slots + (<usize>i << 2);
      const cur = load<u32>(a);
      if (cur == EMPTY) {
        store<u32>(a, off);
        this.size++;
        return off;
      }
      if (cstreq(this.base + cur, p)) return cur;
      i = (i + 1) & mask;
    }
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
    while (load<u32>(this.slots + (<usize>i << 2)) != EMPTY) i = (i + 1) & mask;
    store<u32>(this.slots + (<usize>i << 2), off);
    this.size++;
  }

  /** The string data may move (a growing sink): tell the table where it is now. */
  rebase(base: usize): void { this.base = base; }

  private rehash(): void {
    const oldSlots = this.slots;
    const oldCap = this.mask + 1;
    const cap = oldCap << 1;
    this.mask = cap - 1;
    this.slots = heap.alloc(<usize>cap << 2);
    memory.fill(this.slots, 0xff, <usize>cap << 2);
    for (let j: u32 = 0; j < oldCap; j++) {
      const off = load<u32>(oldSlots + (<usize>j << 2));
      if (off == EMPTY) continue;
      let i = cstrHash(this.base + off) & this.mask;
      while (load<u32>(this.slots + (<usize>i << 2)) != EMPTY) i = (i + 1) & this.mask;
      store<u32>(this.slots + (<usize>i << 2), off);
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
 * A string section being written. Offsets are local to this section; split
 * writers add their `startStrOff` themselves. Offset 0 is "" when `withEmpty`.
 */
export class StrSet {
  data: ByteSink;
  index: StrIndex;

  constructor(withEmpty: bool) {
    const data = new ByteSink(4096);
    this.data = data;
    this.index = new StrIndex(data.ptr, 1024);
    if (withEmpty) {
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
  add(p: usize): u32 {
    this.index.rebase(this.data.ptr);
    // One hash for the lookup and the insertion (distill adds every string of a module).
    const h = cstrHash(p);
    const found = this.index.findHashed(p, h);
    if (found >= 0) return <u32>found;
    const off = this.data.len;
    const n = cstrlen(p);
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

  dispose(): void {
    this.data.dispose();
    this.index.dispose();
  }
}
