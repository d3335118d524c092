// Error reporting from the core. AssemblyScript has no exceptions that the
// host can catch, so every fallible function returns a failure value and
// records the details here: a code, the byte offset into the input, the type
// id (0 when not known) and a one-line message in UTF-8. The TypeScript side
// turns them into a BtfError. The code names below are generated into
// src/generated/codes.ts by scripts/embed-wasm.mjs; keep one per line.

export namespace Err {
  export const OK: i32 = 0;
  export const TRUNCATED: i32 = 1; // input ends inside a structure
  export const BAD_MAGIC: i32 = 2;
  export const BAD_VERSION: i32 = 3;
  export const BAD_FLAGS: i32 = 4;
  export const BAD_HEADER: i32 = 5; // hdr_len out of range, non-zero reserved header bytes
  export const BAD_SECTION: i32 = 6; // section offset/length outside the blob
  export const SECTION_OVERLAP: i32 = 7;
  export const BAD_ALIGN: i32 = 8;
  export const BAD_STRINGS: i32 = 9; // string section rules (NUL first/last)
  export const BAD_STR_OFFSET: i32 = 10; // a name offset outside the string sections
  export const UNKNOWN_KIND: i32 = 11;
  export const BAD_TYPE_LEN: i32 = 12; // records do not tile the type section
  export const BAD_TYPE_ID: i32 = 13; // a referenced type id out of range
  export const BAD_INFO: i32 = 14; // reserved info bits, kind_flag where not allowed
  export const BAD_NAME: i32 = 15;
  export const BAD_VLEN: i32 = 16;
  export const BAD_SIZE: i32 = 17;
  export const BAD_MEMBER: i32 = 18; // member offset beyond the struct, misordered
  export const BAD_BITFIELD: i32 = 19;
  export const BAD_TYPE_TAG: i32 = 20;
  export const LOOP: i32 = 21; // a modifier/typedef chain that loops
  export const TOO_MANY_TYPES: i32 = 22;
  export const BAD_FUNC: i32 = 23;
  export const BAD_LINKAGE: i32 = 24;
  export const BAD_ENCODING: i32 = 25;
  export const BAD_DATASEC: i32 = 26;
  export const BAD_DECL_TAG: i32 = 27;
  export const NO_BASE: i32 = 28; // split BTF given without its base
  export const BAD_ELF: i32 = 29;
  export const NO_BTF: i32 = 30; // ELF without a .BTF section
  export const BAD_BTF_EXT: i32 = 31;
  export const TOO_LARGE: i32 = 32; // over a size cap (decompression, allocation)
  export const BAD_COMPRESSED: i32 = 33;
  export const USAGE: i32 = 34; // bad arguments to an API call
  export const DISTILL_REFUSED: i32 = 35;
  export const RELOCATE_FAILED: i32 = 36;
  export const DEDUP_FAILED: i32 = 37;
  export const BAD_HANDLE: i32 = 38;
  export const UNSUPPORTED: i32 = 39;
  export const INTERNAL: i32 = 40; // a bug in btfkit: an abort inside the core
  export const DUMP_FAILED: i32 = 41;
  export const BAD_DISTILLED_BASE: i32 = 42; // relocate: the split's base is not a distilled base
  export const BAD_ARRAY: i32 = 43; // kernel resolve: an array's index or element type is refused
  export const BAD_RESOLVE: i32 = 44; // kernel resolve: deeper than 32 nested types, or an inconsistent resolve state
  export const CORE_REFUSED: i32 = 45; // min-core: a relocation is a resolver error (libbpf refuses the object)
  export const MINCORE_DIVERGED: i32 = 46; // min-core: the tailored BTF would resolve a record differently
}

let errCode: i32 = 0;
let errOffset: i64 = -1;
let errTypeId: u32 = 0;
let errMsg: string = "";

/** Record a failure. Returns false so callers can `return fail(...)`. */
export function fail(code: i32, offset: i64, typeId: u32, msg: string): bool {
  errCode = code;
  errOffset = offset;
  errTypeId = typeId;
  errMsg = msg;
  return false;
}

export function clearError(): void {
  errCode = 0;
  errOffset = -1;
  errTypeId = 0;
  errMsg = "";
}

export function hasError(): bool { return errCode != 0; }
export function lastErrorCode(): i32 { return errCode; }
export function lastErrorOffset(): i64 { return errOffset; }
export function lastErrorTypeId(): u32 { return errTypeId; }
export function lastErrorMessage(): string { return errMsg; }

/** Custom abort: records an INTERNAL error. The host sees the trap that follows. */
let aborting = false;
export function onAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  errCode = Err.INTERNAL;
  errOffset = -1;
  errTypeId = 0;
  if (!aborting) {
    // Guard: formatting allocates, and the abort may itself be an out-of-memory.
    aborting = true;
    let m = "internal error";
    if (message !== null) m += ": " + message;
    if (fileName !== null) m += " at " + fileName + ":" + line.toString() + ":" + column.toString();
    errMsg = m;
    aborting = false;
  }
  unreachable();
}
