// The one growable u32 vector of the core (queues and stacks of ids, lists of
// offsets). Every algorithm that needs a list of u32 uses this one.

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
