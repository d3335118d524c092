// The C dump's name bookkeeping, in unmanaged memory: libbpf btf_dump keeps
// two maps from a name to how many distinct types (or enumerators) have used
// it so far (`type_names` for struct/union/enum tags, `ident_names` for
// typedefs and enumerators); the k-th user of a name prints as NAME___k.
// Keys are addresses of NUL-terminated strings that stay put for the whole
// dump (BTF string sections, or names this dump allocated).
//
// The classes here are @unmanaged: plain structs in linear memory that the
// garbage collector does not see, so hot code using them carries no
// shadow-stack bookkeeping. Their owners free them with `free()`.

import { cstrHash, cstreq } from "../bytes";

const SLOT: usize = 12; // u32 key address, u32 hash, u32 count

@unmanaged export class NameCounts {
  slots: usize = 0;
  mask: u32 = 0;
  size: u32 = 0;

  constructor(expected: u32) {
    let cap: u32 = 64;
    while (cap < expected * 2) cap <<= 1;
    this.mask = cap - 1;
    this.slots = heap.alloc(<usize>cap * SLOT);
    memory.fill(this.slots, 0, <usize>cap * SLOT);
  }

  /** Count one more use of the name at `p`; returns the new count (libbpf btf_dump_name_dups). */
  bump(p: usize): u32 {
    const h = cstrHash(p);
    let i = h & this.mask;
    while (true) {
      const a = this.slots + <usize>i * SLOT;
      const key = load<u32>(a);
      if (key == 0) break;
      if (load<u32>(a, 4) == h && cstreq(<usize>key, p)) {
        const c = load<u32>(a, 8) + 1;
        store<u32>(a, c, 8);
        return c;
      }
      i = (i + 1) & this.mask;
    }
    if ((this.size + 1) * 4 > (this.mask + 1) * 3) {
      this.grow();
      return this.insertNew(p, h);
    }
    const a = this.slots + <usize>i * SLOT;
    store<u32>(a, <u32>p);
    store<u32>(a, h, 4);
    store<u32>(a, 1, 8);
    this.size++;
    return 1;
  }

  private insertNew(p: usize, h: u32): u32 {
    let i = h & this.mask;
    while (load<u32>(this.slots + <usize>i * SLOT) != 0) i = (i + 1) & this.mask;
    const a = this.slots + <usize>i * SLOT;
    store<u32>(a, <u32>p);
    store<u32>(a, h, 4);
    store<u32>(a, 1, 8);
    this.size++;
    return 1;
  }

  private grow(): void {
    const old = this.slots;
    const oldCap = this.mask + 1;
    const cap = oldCap << 1;
    this.mask = cap - 1;
    this.slots = heap.alloc(<usize>cap * SLOT);
    memory.fill(this.slots, 0, <usize>cap * SLOT);
    for (let j: u32 = 0; j < oldCap; j++) {
      const src = old + <usize>j * SLOT;
      if (load<u32>(src) == 0) continue;
      let i = load<u32>(src, 4) & this.mask;
      while (load<u32>(this.slots + <usize>i * SLOT) != 0) i = (i + 1) & this.mask;
      memory.copy(this.slots + <usize>i * SLOT, src, SLOT);
    }
    heap.free(old);
  }

  free(): void {
    heap.free(this.slots);
    heap.free(changetype<usize>(this));
  }
}

/** A growable array of u32 in unmanaged memory (queues and stacks of ids). */
@unmanaged export class U32Vec {
  ptr: usize = 0;
  len: u32 = 0;
  cap: u32 = 0;

  constructor(initial: u32) {
    this.cap = initial < 16 ? 16 : initial;
    this.ptr = heap.alloc(<usize>this.cap << 2);
  }

  @inline push(v: u32): void {
    if (this.len == this.cap) {
      this.cap <<= 1;
      this.ptr = heap.realloc(this.ptr, <usize>this.cap << 2);
    }
    store<u32>(this.ptr + (<usize>this.len << 2), v);
    this.len++;
  }

  @inline get(i: u32): u32 { return load<u32>(this.ptr + (<usize>i << 2)); }

  free(): void {
    heap.free(this.ptr);
    heap.free(changetype<usize>(this));
  }
}
