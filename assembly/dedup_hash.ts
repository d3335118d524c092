// The hashes and equality tests dedup (dedup.ts) applies to records, as
// libbpf's btf_hash_*, btf_equal_*, btf_compat_* and btf_shallow_equal_*.

import { COMMON_LEN, MEMBER_LEN, PARAM_LEN, T_INFO, T_NAME, T_SIZE } from "./format";

// ---- hashing (libbpf btf_hash_*) ------------------------------------------

@inline export function combine(h: u64, v: u32): u64 { return h * 31 + <u64>v; }

@inline export function hashCommon(p: usize): u64 {
  return combine(combine(combine(0, load<u32>(p, T_NAME)), load<u32>(p, T_INFO)), load<u32>(p, T_SIZE));
}
@inline export function hashTypedef(p: usize): u64 {
  return combine(combine(0, load<u32>(p, T_NAME)), load<u32>(p, T_INFO));
}
@inline export function hashIntTag(p: usize): u64 { return combine(hashCommon(p), load<u32>(p, COMMON_LEN)); }
/** Enums hash by name only, so forward declarations meet full enums (and ENUM meets ENUM64). */
@inline export function hashEnum(p: usize): u64 { return combine(0, load<u32>(p, T_NAME)); }

export function hashStruct(p: usize, vlen: u32): u64 {
  let h = hashCommon(p);
  let m = p + COMMON_LEN;
  for (let i: u32 = 0; i < vlen; i++, m += MEMBER_LEN) {
    h = combine(h, load<u32>(m));
    h = combine(h, load<u32>(m, 8));
  }
  return h;
}
export function hashArray(p: usize): u64 {
  let h = hashCommon(p);
  h = combine(h, load<u32>(p, COMMON_LEN));
  h = combine(h, load<u32>(p, COMMON_LEN + 4));
  return combine(h, load<u32>(p, COMMON_LEN + 8));
}
export function hashFnProto(p: usize, vlen: u32): u64 {
  let h = hashCommon(p);
  let q = p + COMMON_LEN;
  for (let i: u32 = 0; i < vlen; i++, q += PARAM_LEN) {
    h = combine(h, load<u32>(q));
    h = combine(h, load<u32>(q, 4));
  }
  return h;
}

// ---- equality (libbpf btf_equal_* / btf_compat_* / btf_shallow_equal_*) ----

@inline export function equalCommon(a: usize, b: usize): bool {
  return load<u32>(a, T_NAME) == load<u32>(b, T_NAME) && load<u32>(a, T_INFO) == load<u32>(b, T_INFO) &&
    load<u32>(a, T_SIZE) == load<u32>(b, T_SIZE);
}
@inline export function equalTypedef(a: usize, b: usize): bool {
  return load<u32>(a, T_NAME) == load<u32>(b, T_NAME) && load<u32>(a, T_INFO) == load<u32>(b, T_INFO);
}
@inline export function equalIntTag(a: usize, b: usize): bool {
  return equalCommon(a, b) && load<u32>(a, COMMON_LEN) == load<u32>(b, COMMON_LEN);
}
/** Compare `n` bytes of trailing data word by word. */
export function equalWords(a: usize, b: usize, n: usize): bool {
  for (let i: usize = 0; i < n; i += 4) if (load<u32>(a + i) != load<u32>(b + i)) return false;
  return true;
}
/** Pairs of words (name_off, x) at stride `stride`, comparing only the words in `mask` (bit0 w0, bit1 w1, bit2 w2). */
export function equalElems(a: usize, b: usize, vlen: u32, stride: u32, mask: u32): bool {
  for (let i: u32 = 0; i < vlen; i++, a += stride, b += stride) {
    if ((mask & 1) != 0 && load<u32>(a) != load<u32>(b)) return false;
    if ((mask & 2) != 0 && load<u32>(a, 4) != load<u32>(b, 4)) return false;
    if ((mask & 4) != 0 && load<u32>(a, 8) != load<u32>(b, 8)) return false;
  }
  return true;
}

