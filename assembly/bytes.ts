// Byte-level helpers over linear memory: byte swapping, copies and C-string
// operations. Reads here are unchecked; callers bounds-check against the
// section they read first (parse.ts validates every record before use).

@inline export function bswap32(v: u32): u32 {
  return (v << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | (v >> 24);
}

@inline export function bswap16(v: u32): u32 {
  return ((v & 0xff) << 8) | ((v >> 8) & 0xff);
}

@inline export function bswap64(v: u64): u64 {
  return (<u64>bswap32(<u32>v) << 32) | <u64>bswap32(<u32>(v >> 32));
}

/** Swap `count` consecutive u32 words in place. */
export function swapWords(p: usize, count: u32): void {
  for (let i: u32 = 0; i < count; i++) {
    const a = p + (<usize>i << 2);
    store<u32>(a, bswap32(load<u32>(a)));
  }
}

@inline export function memcpy8(dst: usize, src: usize, n: u32): void {
  memory.copy(dst, src, n);
}

/** Length of a NUL-terminated string. */
export function cstrlen(p: usize): u32 {
  let n: u32 = 0;
  while (load<u8>(p + n) != 0) n++;
  return n;
}

/** Length of a NUL-terminated string, bounded by `end` (returns -1 if no NUL before end). */
export function cstrlenBounded(p: usize, end: usize): i32 {
  let q = p;
  while (q < end) {
    if (load<u8>(q) == 0) return <i32>(q - p);
    q++;
  }
  return -1;
}

/** strcmp on unsigned bytes, as glibc's strcmp. */
export function cstrcmp(a: usize, b: usize): i32 {
  if (a == b) return 0;
  while (true) {
    const x = <i32>load<u8>(a);
    const y = <i32>load<u8>(b);
    if (x != y) return x - y;
    if (x == 0) return 0;
    a++;
    b++;
  }
}

@inline export function cstreq(a: usize, b: usize): bool { return cstrcmp(a, b) == 0; }

/** Compare a NUL-terminated string with an ASCII AssemblyScript string. */
export function cstrEqLit(p: usize, s: string): bool {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    if (<u32>load<u8>(p + i) != <u32>s.charCodeAt(i)) return false;
  }
  return load<u8>(p + n) == 0;
}

/** Does the C string start with the ASCII literal? */
export function cstrStartsWith(p: usize, s: string): bool {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    if (<u32>load<u8>(p + i) != <u32>s.charCodeAt(i)) return false;
  }
  return true;
}

/** FNV-1a over a NUL-terminated string; used for our own hash tables. */
export function cstrHash(p: usize): u32 {
  let h: u32 = 2166136261;
  while (true) {
    const c = <u32>load<u8>(p);
    if (c == 0) break;
    h = (h ^ c) * 16777619;
    p++;
  }
  return h;
}

/** Decode a NUL-terminated UTF-8 string into an AssemblyScript string (for messages). */
export function cstrToString(p: usize): string {
  return String.UTF8.decodeUnsafe(p, cstrlen(p), false);
}

/** Next power of two >= v (v >= 1). */
export function nextPow2(v: u32): u32 {
  if (v <= 1) return 1;
  return <u32>1 << (32 - clz(v - 1));
}
