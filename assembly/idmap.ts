// Type-id maps: a dense u32 array indexed by old id giving the new id, and
// their application to the id fields of a record (through fields.ts, the one
// field visitor). Distill, relocate, dedup and the .BTF_ids rewrite all remap
// ids here. The one exception is dedup's compaction (dedup.ts emitTypes):
// its map goes through the canonical-type resolution and must fail on an
// unmapped id as libbpf's btf_dedup_remap_types does, so it walks the same
// fields.ts visitor with its own lookup. Convention: entry 0 means "no mapping" and leaves the field as it
// is, so id 0 (void) and ids a transformation does not touch pass through.

import { typeIdFieldAddr, typeIdFieldCount } from "./fields";

export class IdMap {
  /** u32 per old id. */
  ptr: usize = 0;
  /** Number of entries: old ids [0, len). */
  len: u32 = 0;

  /** A zeroed map for old ids [0, len). */
  constructor(len: u32) {
    this.len = len;
    const bytes = (<usize>len << 2) + 4;
    this.ptr = heap.alloc(bytes);
    memory.fill(this.ptr, 0, bytes);
  }

  /**
   * A map over `len` u32 entries that already lie at `ptr` (the host's map
   * for the .BTF_ids remap). The caller owns that memory: never dispose a view.
   */
  static view(ptr: usize, len: u32): IdMap {
    const m = new IdMap(0);
    heap.free(m.ptr);
    m.ptr = ptr;
    m.len = len;
    return m;
  }

  @inline get(id: u32): u32 { return id < this.len ? load<u32>(this.ptr + (<usize>id << 2)) : 0; }
  @inline set(id: u32, v: u32): void { if (id < this.len) store<u32>(this.ptr + (<usize>id << 2), v); }

  /** The new id for `id`: the mapping when there is one, else `id` unchanged. */
  @inline map(id: u32): u32 {
    if (id >= this.len) return id;
    const v = load<u32>(this.ptr + (<usize>id << 2));
    return v != 0 ? v : id;
  }

  /** Map every type-id field of the record at `p` (of `kind`/`vlen`) in place. */
  applyToRecord(p: usize, kind: u32, vlen: u32): void {
    const n = typeIdFieldCount(kind, vlen);
    const ptr = this.ptr;
    const len = this.len;
    for (let i: u32 = 0; i < n; i++) {
      const a = typeIdFieldAddr(p, kind, i);
      const id = load<u32>(a);
      if (id >= len) continue;
      const v = load<u32>(ptr + (<usize>id << 2));
      if (v != 0) store<u32>(a, v);
    }
  }

  /** Map a packed array of `count` u32 ids in place (e.g. a .BTF_ids section). */
  applyToIds(ids: usize, count: u32): void {
    for (let i: u32 = 0; i < count; i++) {
      const a = ids + (<usize>i << 2);
      store<u32>(a, this.map(load<u32>(a)));
    }
  }

  dispose(): void {
    if (this.ptr != 0) heap.free(this.ptr);
    this.ptr = 0;
    this.len = 0;
  }
}
