// A sparse map from u32 keys to u32 values in unmanaged memory (open
// addressing, linear probing). Used where a dense array indexed by the key
// would be as large as a whole string section: distill's src->dst string
// offset cache (libbpf's str_off_map), relocate's distilled-name -> base-name
// offsets (str_map) and per-name-offset counts.

import { nextPow2 } from "./bytes";

/** Key value that marks an empty slot; callers never store it as a key. */
const EMPTY_KEY: u32 = 0xffffffff;

export class U32Map {
  /** Pairs of u32 (key, value). */
  slots: usize = 0;
  mask: u32 = 0;
  /** 32 - log2(capacity): Fibonacci hashing keeps the top bits. */
  shift: u32 = 0;
  size: u32 = 0;

  constructor(expected: u32) {
    const cap = nextPow2(max<u32>(16, expected * 2));
    this.mask = cap - 1;
    this.shift = clz(cap) + 1;
    this.slots = heap.alloc(<usize>cap << 3);
    memory.fill(this.slots, 0xff, <usize>cap << 3);
  }

  /** Fibonacci hashing spreads the small, clustered keys (offsets, ids). */
  @inline private slot(key: u32): u32 {
    return this.shift >= 32 ? 0 : (key * 0x9e3779b1) >> this.shift;
  }

  /** The value for `key`, or `missing`. */
  get(key: u32, missing: u32): u32 {
    const mask = this.mask;
    let i = this.slot(key);
    while (true) {
      const a = this.slots + (<usize>i << 3);
      const k = load<u32>(a);
      if (k == key) return load<u32>(a, 4);
      if (k == EMPTY_KEY) return missing;
      i = (i + 1) & mask;
    }
  }

  /**
   * The address of `key`'s (key, value) slot, inserting the key with value 0
   * when absent: the one probe loop behind set() and add().
   */
  @inline private entry(key: u32): usize {
    if ((this.size + 1) * 4 > (this.mask + 1) * 3) this.grow();
    const mask = this.mask;
    let i = this.slot(key);
    while (true) {
      const a = this.slots + (<usize>i << 3);
      const k = load<u32>(a);
      if (k == key) return a;
      if (k == EMPTY_KEY) {
        store<u32>(a, key);
        store<u32>(a, 0, 4);
        this.size++;
        return a;
      }
      i = (i + 1) & mask;
    }
  }

  /** Insert or overwrite. `key` must not be 0xffffffff. */
  set(key: u32, value: u32): void {
    store<u32>(this.entry(key), value, 4);
  }

  /** Add `delta` to the value of `key` (0 when absent); returns the new value. */
  add(key: u32, delta: u32): u32 {
    const a = this.entry(key);
    const v = load<u32>(a, 4) + delta;
    store<u32>(a, v, 4);
    return v;
  }

  private grow(): void {
    const old = this.slots;
    const oldCap = this.mask + 1;
    const cap = oldCap << 1;
    this.mask = cap - 1;
    this.shift = clz(cap) + 1;
    this.slots = heap.alloc(<usize>cap << 3);
    memory.fill(this.slots, 0xff, <usize>cap << 3);
    this.size = 0;
    for (let j: u32 = 0; j < oldCap; j++) {
      const a = old + (<usize>j << 3);
      const k = load<u32>(a);
      if (k != EMPTY_KEY) this.set(k, load<u32>(a, 4));
    }
    heap.free(old);
  }

  dispose(): void {
    if (this.slots != 0) heap.free(this.slots);
    this.slots = 0;
  }
}
