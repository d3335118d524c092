// A growable byte buffer in unmanaged memory. Every dump and every writer
// produces its output here as UTF-8 or binary, so multi-MB outputs never pass
// through string concatenation, and the host copies the result out once.

import { memcpy8 } from "./bytes";

export class ByteSink {
  ptr: usize = 0;
  len: u32 = 0;
  cap: u32 = 0;
  /**
   * Most bytes the sink may hold (0: no limit). A write past it sets
   * `overflowed` and starts again over the start of the buffer (callers
   * store right after reserve(), so there must be room), which keeps memory
   * bounded; the content is garbage from then on and the owner reports
   * TOO_LARGE instead of handing it out.
   */
  limit: u32 = 0;
  overflowed: bool = false;

  constructor(initial: u32 = 256) {
    this.cap = initial < 16 ? 16 : initial;
    this.ptr = heap.alloc(this.cap);
  }

  /** Make room for n more bytes. Doubling keeps appends amortised O(1). */
  @inline reserve(n: u32): void {
    const need = <u64>this.len + n;
    if (need > <u64>this.cap) this.grow(need);
  }

  private grow(need: u64): void {
    if (this.limit != 0 && need > <u64>this.limit) {
      this.overflowed = true;
      need -= <u64>this.len;
      this.len = 0;
      if (need <= <u64>this.cap) return;
    }
    let c = <u64>this.cap;
    while (c < need) c <<= 1;
    if (this.limit != 0 && c > <u64>this.limit) c = <u64>this.limit; // need fits: checked above
    if (c > 0x7fff0000) c = need; // let the allocator fail loudly rather than overflow
    this.ptr = heap.realloc(this.ptr, <usize>c);
    this.cap = <u32>c;
  }

  @inline byte(b: u32): void {
    this.reserve(1);
    store<u8>(this.ptr + this.len, <u8>b);
    this.len += 1;
  }

  @inline u32le(v: u32): void {
    this.reserve(4);
    store<u32>(this.ptr + this.len, v);
    this.len += 4;
  }

  @inline u16le(v: u32): void {
    this.reserve(2);
    store<u16>(this.ptr + this.len, <u16>v);
    this.len += 2;
  }

  bytes(src: usize, n: u32): void {
    this.reserve(n);
    memcpy8(this.ptr + this.len, src, n);
    this.len += n;
  }

  /** Append a NUL-terminated string from memory (without its NUL). */
  cstr(src: usize): void {
    let n: u32 = 0;
    while (load<u8>(src + n) != 0) n++;
    this.bytes(src, n);
  }

  /** Append an ASCII/UTF-16 AssemblyScript string literal as UTF-8. */
  str(s: string): void {
    const n = s.length;
    // Fast path for ASCII, which covers every literal the dumps print.
    this.reserve(<u32>n);
    let p = changetype<usize>(s);
    for (let i = 0; i < n; i++) {
      const c = <u32>load<u16>(p + (<usize>i << 1));
      if (c < 0x80) {
        store<u8>(this.ptr + this.len, <u8>c);
        this.len++;
      } else {
        this.slowChar(c);
      }
    }
  }

  private slowChar(c: u32): void {
    if (c < 0x800) {
      this.byte(0xc0 | (c >> 6));
      this.byte(0x80 | (c & 0x3f));
    } else {
      this.byte(0xe0 | (c >> 12));
      this.byte(0x80 | ((c >> 6) & 0x3f));
      this.byte(0x80 | (c & 0x3f));
    }
  }

  u32dec(v: u32): void { this.u64dec(<u64>v); }

  i32dec(v: i32): void {
    if (v < 0) {
      this.byte(0x2d);
      this.u64dec(<u64>(-(<i64>v)));
    } else this.u64dec(<u64>v);
  }

  i64dec(v: i64): void {
    if (v < 0) {
      this.byte(0x2d);
      this.u64dec(<u64>0 - <u64>v); // two's complement negation works for i64.MIN too
    } else this.u64dec(<u64>v);
  }

  u64dec(v: u64): void {
    this.reserve(20);
    // Count digits, then write right to left in place.
    let digits: u32 = 1;
    let t = v;
    while (t >= 10) { t /= 10; digits++; }
    let p = this.ptr + this.len + digits;
    do {
      p--;
      store<u8>(p, <u8>(48 + <u32>(v % 10)));
      v /= 10;
    } while (v != 0);
    this.len += digits;
  }

  /** Lower-case hex without prefix, as printf("%x"). */
  hex(v: u64): void {
    this.reserve(16);
    let digits: u32 = 1;
    let t = v >> 4;
    while (t != 0) { t >>= 4; digits++; }
    let p = this.ptr + this.len + digits;
    do {
      p--;
      const d = <u32>(v & 15);
      store<u8>(p, <u8>(d < 10 ? 48 + d : 87 + d));
      v >>= 4;
    } while (v != 0);
    this.len += digits;
  }

  /** Repeat a byte n times (indentation). */
  repeat(b: u32, n: u32): void {
    this.reserve(n);
    memory.fill(this.ptr + this.len, <u8>b, n);
    this.len += n;
  }

  truncate(n: u32): void { if (n < this.len) this.len = n; }

  /** Free the memory; the sink must not be used afterwards. */
  dispose(): void {
    if (this.ptr != 0) heap.free(this.ptr);
    this.ptr = 0;
    this.len = 0;
    this.cap = 0;
  }
}
