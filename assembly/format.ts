// Where a kind's layout is defined: kind numbers, header layouts, the size of
// each kind's trailing data and the meaning of kind_flag. Every other file asks
// here instead of hard-coding record sizes. Layouts follow include/uapi/linux/btf.h
// and libbpf's btf_type_size().

export const BTF_MAGIC: u16 = 0xeb9f;
export const BTF_MAGIC_SWAPPED: u16 = 0x9feb;
export const BTF_VERSION: u8 = 1;

/** Classic header (libbpf <= 1.7, kernels to date). */
export const HDR_LEN_CLASSIC: u32 = 24;
/** 2026 header: adds layout_off/layout_len (libbpf 1.8 "kind layout"). */
export const HDR_LEN_LAYOUT: u32 = 32;

// Header field offsets.
export const H_MAGIC: u32 = 0;
export const H_VERSION: u32 = 2;
export const H_FLAGS: u32 = 3;
export const H_HDR_LEN: u32 = 4;
export const H_TYPE_OFF: u32 = 8;
export const H_TYPE_LEN: u32 = 12;
export const H_STR_OFF: u32 = 16;
export const H_STR_LEN: u32 = 20;
export const H_LAYOUT_OFF: u32 = 24;
export const H_LAYOUT_LEN: u32 = 28;

// Kinds.
export const KIND_UNKN: u32 = 0;
export const KIND_INT: u32 = 1;
export const KIND_PTR: u32 = 2;
export const KIND_ARRAY: u32 = 3;
export const KIND_STRUCT: u32 = 4;
export const KIND_UNION: u32 = 5;
export const KIND_ENUM: u32 = 6;
export const KIND_FWD: u32 = 7;
export const KIND_TYPEDEF: u32 = 8;
export const KIND_VOLATILE: u32 = 9;
export const KIND_CONST: u32 = 10;
export const KIND_RESTRICT: u32 = 11;
export const KIND_FUNC: u32 = 12;
export const KIND_FUNC_PROTO: u32 = 13;
export const KIND_VAR: u32 = 14;
export const KIND_DATASEC: u32 = 15;
export const KIND_FLOAT: u32 = 16;
export const KIND_DECL_TAG: u32 = 17;
export const KIND_TYPE_TAG: u32 = 18;
export const KIND_ENUM64: u32 = 19;
export const KIND_MAX: u32 = 19;

/** The 12-byte common record: name_off, info, size|type. */
export const T_NAME: u32 = 0;
export const T_INFO: u32 = 4;
export const T_SIZE: u32 = 8;
export const COMMON_LEN: u32 = 12;

// INT trailing word.
export const INT_ENC_SIGNED: u32 = 1;
export const INT_ENC_CHAR: u32 = 2;
export const INT_ENC_BOOL: u32 = 4;
@inline export function intEncoding(word: u32): u32 { return (word >> 24) & 0x0f; }
@inline export function intOffset(word: u32): u32 { return (word >> 16) & 0xff; }
@inline export function intBits(word: u32): u32 { return word & 0xff; }

// Trailing element sizes.
export const MEMBER_LEN: u32 = 12; // STRUCT/UNION: name_off, type, offset
export const ENUM_LEN: u32 = 8; // ENUM: name_off, val
export const ENUM64_LEN: u32 = 12; // ENUM64: name_off, val_lo32, val_hi32
export const PARAM_LEN: u32 = 8; // FUNC_PROTO: name_off, type
export const VARSECINFO_LEN: u32 = 12; // DATASEC: type, offset, size
export const ARRAY_LEN: u32 = 12; // ARRAY: type, index_type, nelems

// FUNC linkage (stored in vlen), VAR linkage (trailing word).
export const LINKAGE_STATIC: u32 = 0;
export const LINKAGE_GLOBAL: u32 = 1;
export const LINKAGE_EXTERN: u32 = 2;

/** Info decoding. `wide` is the 2026 profile (vlen bits 0-23, kind bits 24-30). */
@inline export function infoKind(info: u32, wide: bool): u32 {
  return wide ? (info >> 24) & 0x7f : (info >> 24) & 0x1f;
}
@inline export function infoVlen(info: u32, wide: bool): u32 {
  return wide ? info & 0xffffff : info & 0xffff;
}
@inline export function infoKflag(info: u32): bool { return (info >> 31) != 0; }
@inline export function makeInfo(kind: u32, vlen: u32, kflag: bool): u32 {
  return (kind << 24) | vlen | (kflag ? <u32>0x80000000 : 0);
}
/** Bits that the kernel's BTF_INFO_MASK (0x9f00ffff) forbids. */
export const INFO_RESERVED_MASK: u32 = ~(<u32>0x9f00ffff);

/** Member offset decoding: kind_flag splits it into bitfield size and bit offset. */
@inline export function memberBitOffset(offset: u32, kflag: bool): u32 {
  return kflag ? offset & 0xffffff : offset;
}
@inline export function memberBitfieldSize(offset: u32, kflag: bool): u32 {
  return kflag ? offset >> 24 : 0;
}

/**
 * Bytes after the 12-byte common record for a known kind, or -1 for an
 * unknown kind (the caller may then consult a layout section).
 */
export function trailingLen(kind: u32, vlen: u32): i64 {
  switch (kind) {
    case KIND_INT: return 4;
    case KIND_PTR: case KIND_FWD: case KIND_TYPEDEF: case KIND_VOLATILE:
    case KIND_CONST: case KIND_RESTRICT: case KIND_FUNC: case KIND_FLOAT:
    case KIND_TYPE_TAG: return 0;
    case KIND_ARRAY: return ARRAY_LEN;
    case KIND_STRUCT: case KIND_UNION: return <i64>vlen * MEMBER_LEN;
    case KIND_ENUM: return <i64>vlen * ENUM_LEN;
    case KIND_FUNC_PROTO: return <i64>vlen * PARAM_LEN;
    case KIND_VAR: return 4;
    case KIND_DATASEC: return <i64>vlen * VARSECINFO_LEN;
    case KIND_DECL_TAG: return 4;
    case KIND_ENUM64: return <i64>vlen * ENUM64_LEN;
    default: return -1;
  }
}

/** Kinds whose third common word is a size (the rest store a type id or 0). */
export function kindHasSize(kind: u32): bool {
  return kind == KIND_INT || kind == KIND_STRUCT || kind == KIND_UNION ||
    kind == KIND_ENUM || kind == KIND_ENUM64 || kind == KIND_DATASEC || kind == KIND_FLOAT;
}

/** Kinds whose third common word is a type id. */
export function kindHasTypeRef(kind: u32): bool {
  return kind == KIND_PTR || kind == KIND_TYPEDEF || kind == KIND_VOLATILE ||
    kind == KIND_CONST || kind == KIND_RESTRICT || kind == KIND_FUNC ||
    kind == KIND_FUNC_PROTO || kind == KIND_VAR || kind == KIND_DECL_TAG ||
    kind == KIND_TYPE_TAG;
}

@inline export function isComposite(kind: u32): bool { return kind == KIND_STRUCT || kind == KIND_UNION; }
@inline export function isEnumKind(kind: u32): bool { return kind == KIND_ENUM || kind == KIND_ENUM64; }
@inline export function isModifier(kind: u32): bool {
  return kind == KIND_VOLATILE || kind == KIND_CONST || kind == KIND_RESTRICT || kind == KIND_TYPE_TAG;
}

/** bpftool's kind names (btf_kind_str), index = kind. */
export const KIND_NAMES: StaticArray<string> = [
  "UNKNOWN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF",
  "VOLATILE", "CONST", "RESTRICT", "FUNC", "FUNC_PROTO", "VAR", "DATASEC", "FLOAT",
  "DECL_TAG", "TYPE_TAG", "ENUM64",
];

export function kindName(kind: u32): string {
  return kind <= KIND_MAX ? unchecked(KIND_NAMES[kind]) : "UNKNOWN";
}

/** Limits from the kernel (kernel/bpf/btf.c). */
export const BTF_MAX_TYPE: u32 = 0xfffff;
export const BTF_MAX_NAME_OFFSET: u32 = 0xffffff;
export const BTF_MAX_VLEN: u32 = 0xffff;
export const KSYM_NAME_LEN: u32 = 512;
export const MAX_RESOLVE_DEPTH: u32 = 32;
