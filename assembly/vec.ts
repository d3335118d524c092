// The one growable u32 vector of the core (queues and stacks of ids, lists of
// offsets, explicit walk stacks). Every algorithm that needs a list of u32
// uses this one.

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
    if (this.len == this.cap) this.growTo(this.len + 1);
    store<u32>(this.ptr + (<usize>this.len << 2), v);
    this.len++;
  }

  /** Remove and return the last value (the vector must not be empty). */
  @inline pop(): u32 {
    this.len--;
    return load<u32>(this.ptr + (<usize>this.len << 2));
  }

  @inline get(i: u32): u32 { return load<u32>(this.ptr + (<usize>i << 2)); }

  /** Room for `n` more values, so that pushUnchecked needs no capacity test. */
  @inline reserve(n: u32): void {
    if (<u64>this.len + n > <u64>this.cap) this.growTo(this.len + n);
  }

  /** push() after reserve(): no capacity test. */
  @inline pushUnchecked(v: u32): void {
    store<u32>(this.ptr + (<usize>this.len << 2), v);
    this.len++;
  }

  private growTo(need: u32): void {
    let cap = this.cap;
    while (cap < need) cap <<= 1;
    this.cap = cap;
    this.ptr = heap.realloc(this.ptr, <usize>cap << 2);
  }

  free(): void {
    heap.free(this.ptr);
    heap.free(changetype<usize>(this));
  }
}
