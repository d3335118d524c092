// Validation in two levels.
//  - libbpf: what btf__new() rejects (btf_validate_type via btf_sanity_check):
//    names resolvable, referenced ids in range, FUNC -> FUNC_PROTO. We also
//    reject modifier/typedef/pointer/array chains that loop, since every tool
//    that follows such a chain would otherwise have to guess.
//  - kernel: what BPF_BTF_LOAD runs (kernel/bpf/btf.c btf_parse): btf_check_meta
//    and each kind's *_check_meta, then the resolve pass (validate_resolve.ts:
//    btf_check_all_types), then btf_check_type_tags; then the libbpf level
//    (parse.ts orders them).
//  - kernel-load (api/check.ts): what a module load runs (btf_parse_module):
//    the meta checks and btf_check_type_tags, without the resolve pass.

import { Btf } from "./btf";
import { Err, fail } from "./errors";
import {
  BTF_MAX_NAME_OFFSET, BTF_MAX_TYPE, COMMON_LEN, INFO_RESERVED_MASK, KIND_ARRAY,
  KIND_CONST, KIND_DATASEC, KIND_DECL_TAG, KIND_ENUM, KIND_ENUM64, KIND_FLOAT,
  KIND_FUNC, KIND_FUNC_PROTO, KIND_FWD, KIND_INT, KIND_PTR, KIND_RESTRICT,
  KIND_STRUCT, KIND_TYPEDEF, KIND_TYPE_TAG, KIND_UNION, KIND_VAR, KIND_VOLATILE,
  KIND_MAX, KSYM_NAME_LEN, MEMBER_LEN, ENUM_LEN, ENUM64_LEN, PARAM_LEN, VARSECINFO_LEN,
  T_INFO, T_NAME, T_SIZE, H_TYPE_LEN, infoKflag, intBits, intEncoding, intOffset, kindName,
  memberBitOffset, memberBitfieldSize,
} from "./format";
import { strFieldAddr, strFieldCount, typeIdFieldAddr, typeIdFieldCount } from "./fields";
import { WalkSummary } from "./walk";
import { resolveAll } from "./validate_resolve";

@inline function recFileOff(btf: Btf, fileOff: u32, p: usize): i64 {
  return <i64>fileOff + <i64>(p - btf.mem);
}

function idStr(id: u32): string { return "type [" + id.toString() + "]"; }

/**
 * The libbpf-level checks after parse.ts's walk: on valid input the walk's
 * summary settles names, references and FUNCs, and only the loop check from
 * the forward chain edges remains. Otherwise the full pass finds the first
 * offending type in id order.
 */
export function validateLibbpfAfterWalk(btf: Btf, fileOff: u32, sum: WalkSummary): bool {
  if (sum.maxStrOff >= btf.strEnd() || sum.maxRefId >= btf.typeCnt() || sum.needFullPass)
    return validateLibbpf(btf, fileOff);
  return checkChainLoops(btf, fileOff, sum.fwdChains, sum.fwdCount);
}

/** libbpf-level checks over every own type (btf_sanity_check), one type at a time. */
export function validateLibbpf(btf: Btf, fileOff: u32): bool {
  const cnt = btf.typeCnt();
  const strEnd = btf.strEnd();
  for (let id = btf.startId; id < cnt; id++) {
    const p = btf.ownRec(id);
    const kind = btf.recKind(p);
    const vlen = btf.recVlen(p);
    if (kind > KIND_MAX || kind == 0) continue; // skipped through the layout section
    const ns = strFieldCount(kind, vlen);
    for (let i: u32 = 0; i < ns; i++) {
      const a = strFieldAddr(p, kind, i);
      const off = load<u32>(a);
      if (off >= strEnd)
        return fail(Err.BAD_STR_OFFSET, recFileOff(btf, fileOff, a), id, idStr(id) + " " + kindName(kind) + ": " + (i == 0 ? "name" : "member name") + " offset " + off.toString() + " is outside the string section (" + strEnd.toString() + ")");
    }
    const ni = typeIdFieldCount(kind, vlen);
    for (let i: u32 = 0; i < ni; i++) {
      if (kind == KIND_FWD) break; // FWD's type slot is not a reference
      const a = typeIdFieldAddr(p, kind, i);
      const ref = load<u32>(a);
      if (ref >= cnt)
        return fail(Err.BAD_TYPE_ID, recFileOff(btf, fileOff, a), id, idStr(id) + " " + kindName(kind) + " references type [" + ref.toString() + "], beyond the last id " + (cnt - 1).toString());
    }
    if (kind == KIND_FUNC) {
      const t = load<u32>(p, T_SIZE);
      if (btf.kind(t) != KIND_FUNC_PROTO)
        return fail(Err.BAD_FUNC, recFileOff(btf, fileOff, p + T_SIZE), id, idStr(id) + " FUNC: referenced type [" + t.toString() + "] is not FUNC_PROTO");
    }
  }
  return checkChainLoops(btf, fileOff, 0, 0);
}

/** Kinds whose single reference is followed by tools without any stop. */
export function isChainKind(kind: u32): bool {
  return kind == KIND_TYPEDEF || kind == KIND_VOLATILE || kind == KIND_CONST ||
    kind == KIND_RESTRICT || kind == KIND_TYPE_TAG || kind == KIND_PTR || kind == KIND_ARRAY;
}

/** Address of the followed reference of a chain-kind record at `p`. */
@inline export function chainRefAddr(p: usize, kind: u32): usize {
  return p + (kind == KIND_ARRAY ? COMMON_LEN : T_SIZE);
}

/**
 * Chains of TYPEDEF/CV/TYPE_TAG/PTR/ARRAY form a functional graph (one
 * successor each). Find a cycle among own types in O(n) with three colours,
 * iteratively. Cycles need not be guarded elsewhere after this.
 * `starts` (a u32 list of `nStarts` own ids) limits the walks to those
 * origins: any set that holds one node of every cycle will do, such as the
 * types referencing an id >= their own. With starts 0 every own type is one.
 */
function checkChainLoops(btf: Btf, fileOff: u32, starts: usize, nStarts: u32): bool {
  const n = btf.count;
  if (n == 0) return true;
  const all = starts == 0;
  if (!all && nStarts == 0) return true;
  const start = btf.startId;
  const state = heap.alloc(n); // 0 new, 1 on the current walk, 2 done
  memory.fill(state, 0, n);
  let ok = true;
  const walks = all ? n : nStarts;
  for (let w: u32 = 0; w < walks && ok; w++) {
    const origin = all ? start + w : load<u32>(starts + (<usize>w << 2));
    if (load<u8>(state + (origin - start)) != 0) continue;
    // Walk forward marking 1.
    let id = origin;
    while (true) {
      if (id < start || id - start >= n) break; // the base (or an id the checks above reject)
      const j = id - start;
      const s = load<u8>(state + j);
      if (s == 2) break;
      if (s == 1) {
        const p = btf.ownRec(id);
        ok = fail(Err.LOOP, recFileOff(btf, fileOff, p), id, idStr(id) + " " + kindName(btf.recKind(p)) + " is part of a reference chain that loops");
        break;
      }
      store<u8>(state + j, 1);
      const p = btf.ownRec(id);
      const k = btf.recKind(p);
      if (!isChainKind(k)) break;
      id = load<u32>(chainRefAddr(p, k));
      if (id == 0) break;
    }
    // Walk again marking 2.
    id = origin;
    while (id >= start && id - start < n) {
      const j = id - start;
      if (load<u8>(state + j) != 1) break;
      store<u8>(state + j, 2);
      const p = btf.ownRec(id);
      const k = btf.recKind(p);
      if (!isChainKind(k)) break;
      id = load<u32>(chainRefAddr(p, k));
      if (id == 0) break;
    }
  }
  heap.free(state);
  return ok;
}

// ---- kernel level -------------------------------------------------------

// Character classes of the kernel's ctype (lib/ctype.c, Latin-1 letters
// included: bytes 0xC0-0xFF but 0xD7 and 0xF7 are letters, 0xA0-0xFF are
// printable), as __btf_name_char_ok and isprint use them.
const CH_START: u8 = 1; // may start an identifier: isalpha, '_', '.'
const CH_CONT: u8 = 2; // may continue one: isalnum, '_', '.'
const CH_PRINT: u8 = 4; // isprint, for DATASEC names
const CHAR_CLASS: usize = memory.data(256);
let charClassReady = false;

function buildCharClass(): void {
  for (let c: u32 = 0; c < 256; c++) {
    const alpha = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0xc0 && c != 0xd7 && c != 0xf7);
    const digit = c >= 0x30 && c <= 0x39;
    const extra = c == 0x5f || c == 0x2e;
    let k: u8 = 0;
    if (alpha || extra) k |= CH_START;
    if (alpha || digit || extra) k |= CH_CONT;
    if ((c >= 0x20 && c <= 0x7e) || c >= 0xa0) k |= CH_PRINT;
    store<u8>(CHAR_CLASS + c, k);
  }
  charClassReady = true;
}

@inline function charClass(c: u32): u32 { return <u32>load<u8>(CHAR_CLASS + c); }

// While validateKernel runs: one bit per own string offset already found to
// be a valid identifier. Names repeat (member names, enumerators), and each
// distinct one is then scanned once.
let identMemo: usize = 0;
let identMemoStart: u32 = 0;
let identMemoLen: u32 = 0;

/** btf_name_valid_identifier: a C identifier ('.' allowed) of at most KSYM_NAME_LEN bytes. */
export function validIdentifier(btf: Btf, off: u32): bool {
  const rel = off - identMemoStart;
  const memo = identMemo != 0 && off >= identMemoStart && rel < identMemoLen;
  if (memo && (load<u8>(identMemo + (rel >> 3)) & (<u8>1 << <u8>(rel & 7))) != 0) return true;
  const p = btf.str(off);
  if ((charClass(load<u8>(p)) & CH_START) == 0) return false;
  let i: u32 = 1;
  for (; i < KSYM_NAME_LEN; i++) {
    const c = <u32>load<u8>(p + i);
    if (c == 0) break;
    if ((charClass(c) & CH_CONT) == 0) return false;
  }
  if (load<u8>(p + i) != 0) return false; // longer than KSYM_NAME_LEN
  if (memo) {
    const a = identMemo + (rel >> 3);
    store<u8>(a, load<u8>(a) | (<u8>1 << <u8>(rel & 7)));
  }
  return true;
}

/** btf_name_valid_section: non-empty, printable, at most KSYM_NAME_LEN bytes. */
function validSectionName(btf: Btf, off: u32): bool {
  const p = btf.str(off);
  if (load<u8>(p) == 0) return false;
  let i: u32 = 0;
  for (; i < KSYM_NAME_LEN; i++) {
    const c = <u32>load<u8>(p + i);
    if (c == 0) break;
    if ((charClass(c) & CH_PRINT) == 0) return false;
  }
  return load<u8>(p + i) == 0;
}

/** BTF_TYPE_ID_VALID, and not VOID: a reference the kernel requires to be real. */
@inline function validRefId(id: u32): bool { return id != 0 && id <= BTF_MAX_TYPE; }

@inline function roundupBytes(bits: u64): u64 { return (bits + 7) >> 3; }

/**
 * btf_check_meta + per-kind *_check_meta, then with `resolve` (BPF_BTF_LOAD)
 * the resolve pass, then btf_check_type_tags. Without `resolve` this is what
 * a module or vmlinux load runs.
 */
export function validateKernel(btf: Btf, fileOff: u32, resolve: bool = true): bool {
  return kernelMeta(btf, fileOff, resolve) && kernelResolveAndTags(btf, fileOff, resolve);
}

/**
 * btf_check_all_metas over the own types (those indexed so far when a parse
 * failed), plus with `resolve` btf_parse_type_sec's "No type found".
 */
export function kernelMeta(btf: Btf, fileOff: u32, resolve: bool): bool {
  const cnt = btf.typeCnt();
  if (cnt - 1 > BTF_MAX_TYPE) return fail(Err.TOO_MANY_TYPES, fileOff, 0, "exceeded the kernel's maximum number of types (" + BTF_MAX_TYPE.toString() + ")");
  // btf_parse_type_sec (BPF_BTF_LOAD only): a base BTF needs at least one type.
  if (resolve && btf.base === null && btf.count == 0) return fail(Err.BAD_SECTION, fileOff + H_TYPE_LEN, 0, "empty type section (kernel: \"No type found\")");
  if (!charClassReady) buildCharClass();
  const memoBytes = (<usize>btf.strLen + 7) >> 3;
  identMemo = heap.alloc(max<usize>(memoBytes, 1));
  memory.fill(identMemo, 0, memoBytes);
  identMemoStart = btf.startStrOff;
  identMemoLen = btf.strLen;
  let ok = true;
  for (let id = btf.startId; id < cnt && ok; id++) ok = checkMeta(btf, fileOff, id);
  // The memo goes before the resolve pass allocates its tables: together they
  // can outgrow the free heap and double the wasm memory (which never shrinks)
  // for a vmlinux; rescanning FUNC_PROTO argument names costs about 1 ms.
  heap.free(identMemo);
  identMemo = 0;
  return ok;
}

/** After the meta pass: with `resolve` the resolve pass (validate_resolve.ts), then btf_check_type_tags. */
export function kernelResolveAndTags(btf: Btf, fileOff: u32, resolve: bool): bool {
  if (resolve && !resolveAll(btf, fileOff)) return false;
  return checkTypeTags(btf, fileOff);
}

/** A meta-pass refusal: btfkit's description, then the kernel's log text for it. */
function bad(code: i32, btf: Btf, fileOff: u32, p: usize, id: u32, what: string, ktext: string): bool {
  const kind = btf.recKind(btf.ownRec(id));
  return fail(code, recFileOff(btf, fileOff, p), id, idStr(id) + " " + kindName(kind) + ": " + what + " (kernel: \"" + ktext + "\")");
}

function checkMeta(btf: Btf, fileOff: u32, id: u32): bool {
  const p = btf.ownRec(id);
  const info = load<u32>(p, T_INFO);
  const nameOff = load<u32>(p, T_NAME);
  const sz = load<u32>(p, T_SIZE);
  const kind = btf.recKind(p);
  const vlen = btf.recVlen(p);
  const kflag = infoKflag(info);
  // The kernel knows only the classic info layout (BTF_INFO_MASK), whatever
  // the header size: a 32-byte header with zero layout fields is accepted
  // and its records are checked the same way.
  if ((info & INFO_RESERVED_MASK) != 0) return bad(Err.BAD_INFO, btf, fileOff, p + T_INFO, id, "invalid btf_info 0x" + info.toString(16), "Invalid btf_info:" + info.toString(16));
  if (kind == 0 || kind > KIND_MAX) return bad(Err.UNKNOWN_KIND, btf, fileOff, p + T_INFO, id, "invalid kind " + kind.toString(), "Invalid kind:" + kind.toString());
  if (nameOff > BTF_MAX_NAME_OFFSET || nameOff >= btf.strEnd()) return bad(Err.BAD_STR_OFFSET, btf, fileOff, p, id, "invalid name_offset " + nameOff.toString(), "Invalid name_offset:" + nameOff.toString());
  const q = p + COMMON_LEN;
  switch (kind) {
    case KIND_INT: {
      const w = load<u32>(q);
      if (vlen != 0) return bad(Err.BAD_VLEN, btf, fileOff, p + T_INFO, id, "vlen != 0", "vlen != 0");
      if (kflag) return bad(Err.BAD_INFO, btf, fileOff, p + T_INFO, id, "invalid btf_info kind_flag", "Invalid btf_info kind_flag");
      if (w & 0xf0000000) return bad(Err.BAD_ENCODING, btf, fileOff, q, id, "invalid int_data 0x" + w.toString(16), "Invalid int_data:" + w.toString(16));
      const bits = intBits(w), off = intOffset(w);
      if (bits + off > 128) return bad(Err.BAD_SIZE, btf, fileOff, q, id, "nr_bits exceeds 128", "nr_bits exceeds 128");
      if (roundupBytes(<u64>(bits + off)) > <u64>sz) return bad(Err.BAD_SIZE, btf, fileOff, q, id, "nr_bits exceeds type_size", "nr_bits exceeds type_size");
      const enc = intEncoding(w);
      if (enc != 0 && enc != 1 && enc != 2 && enc != 4) return bad(Err.BAD_ENCODING, btf, fileOff, q, id, "unsupported int encoding " + enc.toString(), "Unsupported encoding");
      break;
    }
    case KIND_PTR: case KIND_TYPEDEF: case KIND_VOLATILE: case KIND_CONST:
    case KIND_RESTRICT: case KIND_TYPE_TAG: {
      if (vlen != 0) return bad(Err.BAD_VLEN, btf, fileOff, p + T_INFO, id, "vlen != 0", "vlen != 0");
      if (kflag && kind != KIND_TYPE_TAG) return bad(Err.BAD_INFO, btf, fileOff, p + T_INFO, id, "invalid btf_info kind_flag", "Invalid btf_info kind_flag");
      if (sz > BTF_MAX_TYPE) return bad(Err.BAD_TYPE_ID, btf, fileOff, p + T_SIZE, id, "invalid type_id", "Invalid type_id");
      if (kind == KIND_TYPEDEF) {
        if (nameOff == 0 || !validIdentifier(btf, nameOff)) return bad(Err.BAD_NAME, btf, fileOff, p, id, "invalid name", "Invalid name");
      } else if (kind == KIND_TYPE_TAG) {
        if (nameOff == 0 || load<u8>(btf.str(nameOff)) == 0) return bad(Err.BAD_NAME, btf, fileOff, p, id, "invalid name", "Invalid name");
      } else if (nameOff != 0) return bad(Err.BAD_NAME, btf, fileOff, p, id, "invalid name", "Invalid name");
      break;
    }
    case KIND_ARRAY: {
      if (nameOff != 0) return bad(Err.BAD_NAME, btf, fileOff, p, id, "invalid name", "Invalid name");
      if (vlen != 0) return bad(Err.BAD_VLEN, btf, fileOff, p + T_INFO, id, "vlen != 0", "vlen != 0");
      if (kflag) return bad(Err.BAD_INFO, btf, fileOff, p + T_INFO, id, "invalid btf_info kind_flag", "Invalid btf_info kind_flag");
      if (sz != 0) return bad(Err.BAD_SIZE, btf, fileOff, p + T_SIZE, id, "size != 0", "size != 0");
      if (!validRefId(load<u32>(q))) return bad(Err.BAD_TYPE_ID, btf, fileOff, q, id, "invalid elem", "Invalid elem");
      if (!validRefId(load<u32>(q, 4))) return bad(Err.BAD_TYPE_ID, btf, fileOff, q + 4, id, "invalid index", "Invalid index");
      break;
    }
    case KIND_STRUCT: case KIND_UNION: {
      if (nameOff != 0 && !validIdentifier(btf, nameOff)) return bad(Err.BAD_NAME, btf, fileOff, p, id, "invalid name", "Invalid name");
      let lastBits: u32 = 0;
      for (let i: u32 = 0; i < vlen; i++) {
        const m = q + <usize>i * MEMBER_LEN;
        const mn = load<u32>(m);
        if (mn > BTF_MAX_NAME_OFFSET || mn >= btf.strEnd()) return bad(Err.BAD_STR_OFFSET, btf, fileOff, m, id, "invalid member name_offset", "Invalid member name_offset:" + mn.toString());
        if (mn != 0 && !validIdentifier(btf, mn)) return bad(Err.BAD_NAME, btf, fileOff, m, id, "invalid member name", "Invalid name");
        if (!validRefId(load<u32>(m, 4))) return bad(Err.BAD_TYPE_ID, btf, fileOff, m + 4, id, "invalid member type_id", "Invalid type_id");
        const raw = load<u32>(m, 8);
        const bitOff = memberBitOffset(raw, kflag);
        if (kind == KIND_UNION && bitOff != 0) return bad(Err.BAD_MEMBER, btf, fileOff, m + 8, id, "invalid member bits_offset " + bitOff.toString() + " in a union", "Invalid member bits_offset");
        // Bit offsets must not go backwards (equal allowed for zero-size members).
        if (lastBits > bitOff) return bad(Err.BAD_MEMBER, btf, fileOff, m + 8, id, "invalid member bits_offset " + bitOff.toString() + " (before the previous member)", "Invalid member bits_offset");
        if (roundupBytes(<u64>bitOff) > <u64>sz) return bad(Err.BAD_MEMBER, btf, fileOff, m + 8, id, "member bits_offset " + bitOff.toString() + " exceeds the struct size " + sz.toString(), "Member bits_offset exceeds its struct size");
        lastBits = bitOff;
      }
      break;
    }
    case KIND_ENUM: case KIND_ENUM64: {
      if (sz == 0 || sz > 8 || (sz & (sz - 1)) != 0) return bad(Err.BAD_SIZE, btf, fileOff, p + T_SIZE, id, "unexpected size " + sz.toString(), "Unexpected size");
      if (nameOff != 0 && !validIdentifier(btf, nameOff)) return bad(Err.BAD_NAME, btf, fileOff, p, id, "invalid name", "Invalid name");
      const step: u32 = kind == KIND_ENUM ? ENUM_LEN : ENUM64_LEN;
      for (let i: u32 = 0; i < vlen; i++) {
        const e = q + <usize>i * step;
        const en = load<u32>(e);
        if (en > BTF_MAX_NAME_OFFSET || en >= btf.strEnd()) return bad(Err.BAD_STR_OFFSET, btf, fileOff, e, id, "invalid enumerator name_offset", "Invalid name_offset:" + en.toString());
        if (en == 0 || !validIdentifier(btf, en)) return bad(Err.BAD_NAME, btf, fileOff, e, id, "invalid enumerator name", "Invalid name");
      }
      break;
    }
    case KIND_FWD: {
      if (vlen != 0) return bad(Err.BAD_VLEN, btf, fileOff, p + T_INFO, id, "vlen != 0", "vlen != 0");
      if (sz != 0) return bad(Err.BAD_TYPE_ID, btf, fileOff, p + T_SIZE, id, "type != 0", "type != 0");
      if (nameOff == 0 || !validIdentifier(btf, nameOff)) return bad(Err.BAD_NAME, btf, fileOff, p, id, "invalid name", "Invalid name");
      break;
    }
    case KIND_FUNC: {
      if (nameOff == 0 || !validIdentifier(btf, nameOff)) return bad(Err.BAD_NAME, btf, fileOff, p, id, "invalid name", "Invalid name");
      if (vlen > 1) return bad(Err.BAD_LINKAGE, btf, fileOff, p + T_INFO, id, "invalid func linkage " + vlen.toString(), "Invalid func linkage");
      if (kflag) return bad(Err.BAD_INFO, btf, fileOff, p + T_INFO, id, "invalid btf_info kind_flag", "Invalid btf_info kind_flag");
      break;
    }
    case KIND_FUNC_PROTO: {
      // Parameter names are checked only by the resolve pass
      // (btf_func_proto_check in validate_resolve.ts), which module and
      // vmlinux loads do not run.
      if (nameOff != 0) return bad(Err.BAD_NAME, btf, fileOff, p, id, "invalid name", "Invalid name");
      if (kflag) return bad(Err.BAD_INFO, btf, fileOff, p + T_INFO, id, "invalid btf_info kind_flag", "Invalid btf_info kind_flag");
      break;
    }
    case KIND_VAR: {
      if (vlen != 0) return bad(Err.BAD_VLEN, btf, fileOff, p + T_INFO, id, "vlen != 0", "vlen != 0");
      if (kflag) return bad(Err.BAD_INFO, btf, fileOff, p + T_INFO, id, "invalid btf_info kind_flag", "Invalid btf_info kind_flag");
      if (nameOff == 0 || !validIdentifier(btf, nameOff)) return bad(Err.BAD_NAME, btf, fileOff, p, id, "invalid name", "Invalid name");
      if (!validRefId(sz)) return bad(Err.BAD_TYPE_ID, btf, fileOff, p + T_SIZE, id, "invalid type_id", "Invalid type_id");
      const linkage = load<u32>(q);
      if (linkage > 1) return bad(Err.BAD_LINKAGE, btf, fileOff, q, id, "linkage " + linkage.toString() + " not supported", "Linkage not supported");
      break;
    }
    case KIND_DATASEC: {
      if (sz == 0) return bad(Err.BAD_SIZE, btf, fileOff, p + T_SIZE, id, "size == 0", "size == 0");
      if (kflag) return bad(Err.BAD_INFO, btf, fileOff, p + T_INFO, id, "invalid btf_info kind_flag", "Invalid btf_info kind_flag");
      if (nameOff == 0 || !validSectionName(btf, nameOff)) return bad(Err.BAD_NAME, btf, fileOff, p, id, "invalid name", "Invalid name");
      let last: u64 = 0, sum: u64 = 0;
      for (let i: u32 = 0; i < vlen; i++) {
        const v = q + <usize>i * VARSECINFO_LEN;
        const vt = load<u32>(v), vo = load<u32>(v, 4), vs = load<u32>(v, 8);
        if (!validRefId(vt)) return bad(Err.BAD_DATASEC, btf, fileOff, v, id, "invalid var type_id", "Invalid type_id");
        if (<u64>vo < last || vo >= sz) return bad(Err.BAD_DATASEC, btf, fileOff, v + 4, id, "invalid var offset", "Invalid offset");
        if (vs == 0 || vs > sz) return bad(Err.BAD_DATASEC, btf, fileOff, v + 8, id, "invalid var size", "Invalid size");
        if (<u64>vo + vs > <u64>sz) return bad(Err.BAD_DATASEC, btf, fileOff, v + 4, id, "invalid var offset+size", "Invalid offset+size");
        last = <u64>vo + vs;
        sum += vs;
      }
      if (sum > <u64>sz) return bad(Err.BAD_DATASEC, btf, fileOff, p + T_SIZE, id, "invalid btf_info size", "Invalid btf_info size");
      break;
    }
    case KIND_FLOAT: {
      if (vlen != 0) return bad(Err.BAD_VLEN, btf, fileOff, p + T_INFO, id, "vlen != 0", "vlen != 0");
      if (kflag) return bad(Err.BAD_INFO, btf, fileOff, p + T_INFO, id, "invalid btf_info kind_flag", "Invalid btf_info kind_flag");
      if (sz != 2 && sz != 4 && sz != 8 && sz != 12 && sz != 16) return bad(Err.BAD_SIZE, btf, fileOff, p + T_SIZE, id, "invalid type_size " + sz.toString(), "Invalid type_size");
      break;
    }
    case KIND_DECL_TAG: {
      if (nameOff == 0 || load<u8>(btf.str(nameOff)) == 0) return bad(Err.BAD_NAME, btf, fileOff, p, id, "invalid value", "Invalid value");
      if (vlen != 0) return bad(Err.BAD_VLEN, btf, fileOff, p + T_INFO, id, "vlen != 0", "vlen != 0");
      if (load<i32>(q) < -1) return bad(Err.BAD_DECL_TAG, btf, fileOff, q, id, "invalid component_idx", "Invalid component_idx");
      break;
    }
  }
  return true;
}

/** The kernel's btf_type_is_modifier: what btf_check_type_tags follows. */
@inline function isKernelModifier(kind: u32): bool {
  return kind == KIND_TYPEDEF || kind == KIND_VOLATILE || kind == KIND_CONST ||
    kind == KIND_RESTRICT || kind == KIND_TYPE_TAG;
}

/**
 * btf_check_type_tags: along each modifier chain, TYPE_TAGs come first.
 * As the kernel, a walk stops once it reaches an id at or below the last
 * chain start already checked (`good`), and more than 32 steps through
 * unchecked ids is an error.
 */
function checkTypeTags(btf: Btf, fileOff: u32): bool {
  const start = btf.startId;
  const cnt = btf.typeCnt();
  let good = start - 1;
  for (let i = start; i < cnt; i++) {
    const p0 = btf.ownRec(i);
    let k = btf.recKind(p0);
    if (!isKernelModifier(k)) continue;
    let inTags = k == KIND_TYPE_TAG;
    let cur = i;
    let p = p0;
    let limit: i32 = 32;
    while (isKernelModifier(k)) {
      if (limit-- == 0) return fail(Err.LOOP, recFileOff(btf, fileOff, p0), i, idStr(i) + ": modifier chain longer than 32 or cyclic (kernel: \"Max chain length or cycle detected\")");
      if (k == KIND_TYPE_TAG) {
        if (!inTags) return fail(Err.BAD_TYPE_TAG, recFileOff(btf, fileOff, p0), i, idStr(i) + ": type tags don't precede modifiers (kernel: \"Type tags don't precede modifiers\")");
      } else inTags = false;
      if (cur <= good) break;
      cur = load<u32>(p, T_SIZE);
      // Without the libbpf-level pass (module-load mode) ids are unchecked here.
      if (cur >= cnt) return fail(Err.BAD_TYPE_ID, recFileOff(btf, fileOff, p0), i, idStr(i) + ": modifier chain reaches type [" + cur.toString() + "], out of range");
      p = btf.rec(cur);
      k = btf.kind(cur);
    }
    good = i;
  }
  return true;
}
