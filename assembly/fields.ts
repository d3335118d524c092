// The one visitor of a record's type-id fields and string-offset fields, in
// libbpf's btf_field_iter order (src/btf_iter.c). Validation checks these
// fields, distill/relocate/dedup rewrite them, the C dump follows them. A new
// kind is taught to the toolkit here and in format.ts.
//
// Zero-allocation interface: a count and the address of the i-th field.

import {
  KIND_PTR, KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_FUNC,
  KIND_VAR, KIND_DECL_TAG, KIND_TYPE_TAG, KIND_FWD, KIND_ARRAY, KIND_STRUCT,
  KIND_UNION, KIND_FUNC_PROTO, KIND_DATASEC, KIND_ENUM, KIND_ENUM64,
  COMMON_LEN, MEMBER_LEN, PARAM_LEN, VARSECINFO_LEN, ENUM_LEN, ENUM64_LEN, T_SIZE,
} from "./format";

/** How many type-id fields a record of this kind and vlen has. */
export function typeIdFieldCount(kind: u32, vlen: u32): u32 {
  switch (kind) {
    case KIND_PTR: case KIND_TYPEDEF: case KIND_VOLATILE: case KIND_CONST:
    case KIND_RESTRICT: case KIND_FUNC: case KIND_VAR: case KIND_DECL_TAG:
    case KIND_TYPE_TAG: case KIND_FWD:
      return 1;
    case KIND_ARRAY: return 2;
    case KIND_STRUCT: case KIND_UNION: return vlen;
    case KIND_FUNC_PROTO: return vlen + 1;
    case KIND_DATASEC: return vlen;
    default: return 0;
  }
}

/** Address of the i-th type-id field of the record at `p`. */
export function typeIdFieldAddr(p: usize, kind: u32, i: u32): usize {
  switch (kind) {
    case KIND_ARRAY: return p + COMMON_LEN + (<usize>i << 2); // type, index_type
    case KIND_STRUCT: case KIND_UNION: return p + COMMON_LEN + <usize>i * MEMBER_LEN + 4;
    case KIND_FUNC_PROTO:
      return i == 0 ? p + T_SIZE : p + COMMON_LEN + <usize>(i - 1) * PARAM_LEN + 4;
    case KIND_DATASEC: return p + COMMON_LEN + <usize>i * VARSECINFO_LEN;
    default: return p + T_SIZE;
  }
}

/** How many string-offset fields (name_off first, then member/param/enumerator names). */
export function strFieldCount(kind: u32, vlen: u32): u32 {
  switch (kind) {
    case KIND_STRUCT: case KIND_UNION: case KIND_ENUM: case KIND_ENUM64:
    case KIND_FUNC_PROTO:
      return vlen + 1;
    default: return 1;
  }
}

/** Address of the i-th string-offset field of the record at `p`. */
export function strFieldAddr(p: usize, kind: u32, i: u32): usize {
  if (i == 0) return p;
  const j = <usize>(i - 1);
  switch (kind) {
    case KIND_STRUCT: case KIND_UNION: return p + COMMON_LEN + j * MEMBER_LEN;
    case KIND_ENUM: return p + COMMON_LEN + j * ENUM_LEN;
    case KIND_ENUM64: return p + COMMON_LEN + j * ENUM64_LEN;
    case KIND_FUNC_PROTO: return p + COMMON_LEN + j * PARAM_LEN;
    default: return p;
  }
}
