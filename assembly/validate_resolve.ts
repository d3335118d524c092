// The kernel's resolve pass: the second half of what BPF_BTF_LOAD runs
// (kernel/bpf/btf.c btf_parse -> btf_parse_type_sec -> btf_check_all_types).
// Followed from the torvalds/linux btf.c read through the search index
// (tree 912310dd, the v6.1 line); the functions followed here
// (btf_check_all_types, btf_resolve with env_stack_push/env_stack_pop_resolved,
// env_type_is_resolve_sink, btf_type_id_size, btf_resolve_valid, each kind's
// resolve op, the check_member/check_kflag_member ops, btf_func_check and
// btf_func_proto_check) carry the same checks and log text in 6.18:
// test/validate-kernel.test.ts compares verdicts, log text and blamed type
// ids with a running 6.18.44 kernel's BPF_BTF_LOAD when it is permitted.
// See the README's "Validation levels".
//
// Every own type that needs resolving (modifiers, PTR, ARRAY, STRUCT/UNION,
// VAR, DATASEC, FUNC, DECL_TAG) is resolved with the kernel's explicit stack
// of at most 32 vertices, in the kernel's order, so the first refusal is the
// kernel's first refusal: same type id (the kernel logs the type on top of
// the stack, or the start type for "Loop detected"), and the kernel's own
// log text at the end of the message. Each type is resolved once; a struct
// re-entered after a pushed member continues at that member, so the pass is
// linear in types plus members.
//
// Base types of split BTF count as resolved (env_type_is_resolved); what the
// kernel would read from the base's resolved_ids/sizes is computed on demand
// by a bounded walk (baseResolvedId, baseSize).
//
// Module and vmlinux loads (btf_parse_module, btf_parse_vmlinux) do not run
// this pass; LEVEL_KERNEL_LOAD (api/check.ts) therefore skips it.

import { Btf } from "./btf";
import { Err, fail } from "./errors";
import { cstrToString } from "./bytes";
import {
  BTF_MAX_NAME_OFFSET, COMMON_LEN, KIND_ARRAY, KIND_CONST, KIND_DATASEC, KIND_DECL_TAG,
  KIND_ENUM, KIND_ENUM64, KIND_FLOAT, KIND_FUNC, KIND_FUNC_PROTO, KIND_FWD, KIND_INT,
  KIND_PTR, KIND_RESTRICT, KIND_STRUCT, KIND_TYPEDEF, KIND_TYPE_TAG, KIND_UNION, KIND_VAR,
  KIND_VOLATILE, MAX_RESOLVE_DEPTH, MEMBER_LEN, PARAM_LEN, T_NAME, T_SIZE, VARSECINFO_LEN,
  infoKflag, intBits, intOffset, kindHasSize, kindName, T_INFO,
} from "./format";
import { validIdentifier } from "./validate";

const NOT_VISITED: u8 = 0;
const VISITED: u8 = 1;
const RESOLVED: u8 = 2;

// enum resolve_mode
const MODE_TBD: i32 = 0;
const MODE_PTR: i32 = 1;
const MODE_STRUCT_OR_ARRAY: i32 = 2;

// Results of a resolve step: OK, a refusal already recorded with fail(), or
// the two conditions btf_resolve itself reports for the start type.
const R_OK: i32 = 0;
const R_FAIL: i32 = -1;
const R_E2BIG: i32 = -2;
const R_EEXIST: i32 = -3;

/** sizeof(void *) of the kernel judging: a 64-bit kernel. */
const PTR_SIZE: u32 = 8;
/** Step bound for the on-demand walks through base types. */
const BASE_WALK_LIMIT: i32 = 64;

// The pass's state while resolveAll runs (one pass at a time; the core is single-threaded).
let gBtf: Btf | null = null;
let gFileOff: u32 = 0;
let gStart: u32 = 0;
let gCnt: u32 = 0;
let gVisit: usize = 0; // u8 per own type
// One u32 per own type for the kernel's resolved_ids/resolved_sizes pair:
// only an ARRAY's size is ever read back (its resolved id never is), and no
// other kind stores a non-zero size, so an ARRAY's slot holds its byte size
// and every other kind's slot its resolved id.
let gResolved: usize = 0;
let gMode: i32 = MODE_TBD;
let gTop: u32 = 0;
const STACK_IDS: usize = memory.data(MAX_RESOLVE_DEPTH * 4);
const STACK_NEXT: usize = memory.data(MAX_RESOLVE_DEPTH * 4);
// Outputs of typeIdSize (btf_type_id_size's *type_id and *ret_size).
let tisId: u32 = 0;
let tisSize: u32 = 0;

/**
 * btf_check_all_types: resolve every own type that needs it, and check every
 * FUNC_PROTO (btf_func_proto_check), in id order. Runs after the meta pass.
 */
export function resolveAll(btf: Btf, fileOff: u32): bool {
  const n = btf.count;
  gBtf = btf;
  gFileOff = fileOff;
  gStart = btf.startId;
  gCnt = btf.typeCnt();
  const bytes = max<usize>(<usize>n, 1);
  gVisit = heap.alloc(bytes);
  memory.fill(gVisit, 0, bytes);
  gResolved = heap.alloc(bytes << 2);
  memory.fill(gResolved, 0, bytes << 2);
  let ok = true;
  for (let id = gStart; id < gCnt && ok; id++) {
    const k = btf.recKind(btf.ownRec(id));
    if (needsResolve(k) && !isResolved(id)) ok = btfResolve(btf, id);
    if (ok && k == KIND_FUNC_PROTO) ok = funcProtoCheck(btf, id);
  }
  heap.free(gVisit);
  heap.free(gResolved);
  gVisit = 0;
  gResolved = 0;
  gBtf = null;
  return ok;
}

// ---- kind predicates (btf.c's btf_type_is_* family) ---------------------------

/** btf_type_is_modifier: TYPEDEF counts, PTR does not. */
@inline function isMod(k: u32): bool {
  return k == KIND_TYPEDEF || k == KIND_VOLATILE || k == KIND_CONST || k == KIND_RESTRICT || k == KIND_TYPE_TAG;
}
@inline function isStructKind(k: u32): bool { return k == KIND_STRUCT || k == KIND_UNION; }
function needsResolve(k: u32): bool {
  return isMod(k) || k == KIND_PTR || isStructKind(k) || k == KIND_ARRAY || k == KIND_VAR ||
    k == KIND_FUNC || k == KIND_DECL_TAG || k == KIND_DATASEC;
}
/** btf_type_is_resolve_source_only. */
@inline function sourceOnly(k: u32): bool { return k == KIND_VAR || k == KIND_DECL_TAG || k == KIND_DATASEC; }
/** btf_type_nosize: void, FWD, FUNC, FUNC_PROTO. */
@inline function noSize(id: u32, k: u32): bool {
  return id == 0 || k == KIND_FWD || k == KIND_FUNC || k == KIND_FUNC_PROTO;
}
/** The record of any id; own ids without the base-chain walk of btf.rec (the hot case). */
@inline function recOf(btf: Btf, id: u32): usize { return id >= gStart ? btf.ownRec(id) : btf.rec(id); }
@inline function kindOf(btf: Btf, id: u32): u32 {
  if (id >= gStart) return btf.recKind(btf.ownRec(id));
  return id == 0 ? 0 : btf.kind(id);
}
/** The size|type word of any id. */
@inline function sizeOrType(btf: Btf, id: u32): u32 { return load<u32>(recOf(btf, id), T_SIZE); }

/** env_type_is_resolve_sink: where a walk in the current mode stops. */
function isSink(k: u32): bool {
  if (gMode == MODE_TBD) return !needsResolve(k);
  if (gMode == MODE_PTR) return !isMod(k) && k != KIND_PTR;
  return !isMod(k) && k != KIND_ARRAY && !isStructKind(k);
}

/** env_type_is_resolved: base types are; void never is (it is never pushed). */
@inline function isResolved(id: u32): bool {
  if (id == 0) return false;
  if (id < gStart) return true;
  return load<u8>(gVisit + (id - gStart)) == RESOLVED;
}

/** btf_type_int_is_regular: not a bitfield, 1/2/4/8/16 bytes. */
function intRegular(btf: Btf, id: u32): bool {
  const w = load<u32>(recOf(btf, id), COMMON_LEN);
  const bits = intBits(w);
  const bytes = (bits + 7) >> 3;
  if ((bits & 7) != 0 || intOffset(w) != 0) return false;
  return bytes == 1 || bytes == 2 || bytes == 4 || bytes == 8 || bytes == 16;
}

// ---- resolved ids and sizes ---------------------------------------------------

function resolvedId(btf: Btf, id: u32): u32 {
  if (id >= gStart) return load<u32>(gResolved + (<usize>(id - gStart) << 2)); // never asked of an ARRAY
  return baseResolvedId(btf, id);
}
function resolvedSize(btf: Btf, id: u32): u32 {
  if (id >= gStart) return kindOf(btf, id) == KIND_ARRAY ? load<u32>(gResolved + (<usize>(id - gStart) << 2)) : 0;
  return kindOf(btf, id) == KIND_ARRAY ? baseSize(btf, id) : 0;
}

/** What a resolved base type's resolved_ids entry holds: the first non-modifier it leads to. */
function baseResolvedId(btf: Btf, id: u32): u32 {
  const k = kindOf(btf, id);
  if (k == KIND_FUNC || k == KIND_DECL_TAG) return sizeOrType(btf, id);
  if (!(isMod(k) || k == KIND_PTR || k == KIND_VAR || k == KIND_ARRAY)) return k == KIND_STRUCT || k == KIND_UNION || k == KIND_DATASEC ? 0 : id;
  let cur = k == KIND_ARRAY ? load<u32>(recOf(btf, id), COMMON_LEN) : sizeOrType(btf, id);
  for (let i = 0; i < BASE_WALK_LIMIT; i++) {
    if (cur == 0 || cur >= gCnt || !isMod(kindOf(btf, cur))) return cur;
    cur = sizeOrType(btf, cur);
  }
  return 0;
}

/** The byte size of a base type (arrays multiplied out), 0 when it has none. */
function baseSize(btf: Btf, id: u32): u32 {
  let nelems: u64 = 1;
  let cur = id;
  for (let i = 0; i < BASE_WALK_LIMIT; i++) {
    if (cur == 0 || cur >= gCnt) return 0;
    const k = kindOf(btf, cur);
    if (kindHasSize(k)) return <u32>min<u64>(nelems * <u64>sizeOrType(btf, cur), 0xffffffff);
    if (k == KIND_PTR) return <u32>min<u64>(nelems * PTR_SIZE, 0xffffffff);
    if (k == KIND_ARRAY) {
      nelems = min<u64>(nelems * <u64>load<u32>(recOf(btf, cur) + COMMON_LEN, 8), 0xffffffff);
      cur = load<u32>(recOf(btf, cur), COMMON_LEN);
    } else if (isMod(k)) cur = sizeOrType(btf, cur);
    else return 0;
  }
  return 0;
}

/** btf_type_id_size: the sized type `id` stands for; sets tisId/tisSize. */
function typeIdSize(btf: Btf, id: u32): bool {
  if (id >= gCnt) return false;
  let k = kindOf(btf, id);
  if (noSize(id, k)) return false;
  let size: u32 = 0;
  if (kindHasSize(k)) size = sizeOrType(btf, id);
  else if (k == KIND_ARRAY) size = resolvedSize(btf, id);
  else if (k == KIND_PTR) size = PTR_SIZE;
  else {
    if (!isMod(k) && k != KIND_VAR) return false;
    id = resolvedId(btf, id);
    if (id >= gCnt) return false;
    k = kindOf(btf, id);
    if (noSize(id, k)) return false;
    if (kindHasSize(k)) size = sizeOrType(btf, id);
    else if (k == KIND_ARRAY) size = resolvedSize(btf, id);
    else if (k == KIND_PTR) size = PTR_SIZE;
    else return false;
  }
  tisId = id;
  tisSize = size;
  return true;
}

// ---- the stack ----------------------------------------------------------------

function push(btf: Btf, id: u32): i32 {
  if (gTop == MAX_RESOLVE_DEPTH) return R_E2BIG;
  if (id < gStart || load<u8>(gVisit + (id - gStart)) != NOT_VISITED) return R_EEXIST;
  store<u8>(gVisit + (id - gStart), VISITED);
  store<u32>(STACK_IDS + (<usize>gTop << 2), id);
  store<u32>(STACK_NEXT + (<usize>gTop << 2), 0);
  gTop++;
  if (gMode == MODE_TBD) {
    const k = kindOf(btf, id);
    if (k == KIND_PTR) gMode = MODE_PTR;
    else if (isStructKind(k) || k == KIND_ARRAY) gMode = MODE_STRUCT_OR_ARRAY;
  }
  return R_OK;
}

@inline function setNext(next: u32): void { store<u32>(STACK_NEXT + (<usize>(gTop - 1) << 2), next); }

/** env_stack_pop_resolved: the top type is resolved; `slot` is its resolved id, or an ARRAY's size. */
function popResolved(slot: u32): void {
  gTop--;
  const j = <usize>(load<u32>(STACK_IDS + (<usize>gTop << 2)) - gStart);
  store<u32>(gResolved + (j << 2), slot);
  store<u8>(gVisit + j, RESOLVED);
}

// ---- refusals -----------------------------------------------------------------

/** Record a refusal of own type `id` at address `at`; `ktext` is the kernel's log text. */
function refuse(btf: Btf, code: i32, at: usize, id: u32, what: string, ktext: string): i32 {
  const kind = btf.recKind(btf.ownRec(id));
  fail(code, <i64>gFileOff + <i64>(at - btf.mem), id,
    "type [" + id.toString() + "] " + kindName(kind) + ": " + what + " (kernel: \"" + ktext + "\")");
  return R_FAIL;
}

function memberWhat(btf: Btf, m: usize, idx: u32): string {
  const nm = load<u32>(m);
  return "member #" + idx.toString() + (nm != 0 ? " '" + cstrToString(btf.str(nm)) + "'" : "");
}

function refType(btf: Btf, id: u32): string {
  return id == 0 ? "void" : "type [" + id.toString() + "] " + (id < gCnt ? kindName(kindOf(btf, id)) : "(none)");
}

// ---- btf_resolve ----------------------------------------------------------------

function btfResolve(btf: Btf, id: u32): bool {
  gMode = MODE_TBD;
  gTop = 0;
  push(btf, id);
  let err = R_OK;
  while (err == R_OK && gTop > 0) {
    const vid = load<u32>(STACK_IDS + (<usize>(gTop - 1) << 2));
    err = resolveStep(btf, vid);
  }
  const p = btf.ownRec(id);
  if (err == R_E2BIG) {
    refuse(btf, Err.BAD_RESOLVE, p, id, "resolving it nests more than " + MAX_RESOLVE_DEPTH.toString() + " types", "Exceeded max resolving depth:" + MAX_RESOLVE_DEPTH.toString());
    return false;
  }
  if (err == R_EEXIST) {
    refuse(btf, Err.LOOP, p, id, "its types refer back to a type being resolved", "Loop detected");
    return false;
  }
  if (err != R_OK) return false;
  if (!resolveValid(btf, id)) {
    refuse(btf, Err.BAD_RESOLVE, p, id, "inconsistent resolve result", "Invalid resolve state");
    return false;
  }
  return true;
}

/** One call of the resolve op of the type on top of the stack. */
function resolveStep(btf: Btf, id: u32): i32 {
  const k = btf.recKind(btf.ownRec(id));
  if (isMod(k)) return resolveRef(btf, id, false);
  switch (k) {
    case KIND_PTR: return resolveRef(btf, id, true);
    case KIND_ARRAY: return resolveArray(btf, id);
    case KIND_STRUCT: case KIND_UNION: return resolveStruct(btf, id);
    case KIND_VAR: return resolveVar(btf, id);
    case KIND_DATASEC: return resolveDatasec(btf, id);
    case KIND_FUNC: return resolveFunc(btf, id);
    case KIND_DECL_TAG: return resolveDeclTag(btf, id);
  }
  return refuse(btf, Err.BAD_RESOLVE, btf.ownRec(id), id, "kind cannot be resolved", "Unsupported resolve");
}

/** btf_resolve_valid: the final sanity check of a resolved start type. */
function resolveValid(btf: Btf, id: u32): bool {
  if (!isResolved(id)) return false;
  const p = btf.ownRec(id);
  const k = btf.recKind(p);
  const rid: u32 = k == KIND_ARRAY ? 0 : resolvedId(btf, id);
  const rsize = resolvedSize(btf, id);
  if (isStructKind(k) || k == KIND_DATASEC) return rid == 0 && rsize == 0;
  if (k == KIND_DECL_TAG || k == KIND_FUNC) return rid != 0 && rsize == 0;
  if (isMod(k) || k == KIND_PTR || k == KIND_VAR) {
    if (rid >= gCnt) return false;
    const rk = kindOf(btf, rid);
    return !isMod(rk) && rk != KIND_VAR && rk != KIND_DATASEC;
  }
  if (k == KIND_ARRAY) {
    const elem = load<u32>(p, COMMON_LEN);
    const nelems = load<u32>(p, COMMON_LEN + 8);
    return typeIdSize(btf, elem) && !isMod(kindOf(btf, tisId)) && nelems * tisSize == rsize;
  }
  return false;
}

// ---- the resolve ops ----------------------------------------------------------

/** btf_modifier_resolve (isPtr false) and btf_ptr_resolve (isPtr true). */
function resolveRef(btf: Btf, id: u32, isPtr: bool): i32 {
  const p = btf.ownRec(id);
  let next = load<u32>(p, T_SIZE);
  if (next >= gCnt || sourceOnly(kindOf(btf, next)))
    return refuse(btf, Err.BAD_TYPE_ID, p + T_SIZE, id, "refers to " + refType(btf, next), "Invalid type_id");
  let nk = kindOf(btf, next);
  if (!isSink(nk) && !isResolved(next)) return push(btf, next);
  if (isPtr && isMod(nk)) {
    // The modifier may have stopped at a pointer (resolved in struct mode):
    // continue from that pointer so it cannot lead back here.
    const rid = resolvedId(btf, next);
    if (rid != 0 && rid < gCnt && kindOf(btf, rid) == KIND_PTR && !isSink(KIND_PTR) && !isResolved(rid)) return push(btf, rid);
  }
  if (typeIdSize(btf, next)) next = tisId;
  else {
    if (isResolved(next)) {
      next = resolvedId(btf, next);
      nk = next < gCnt ? kindOf(btf, next) : 0;
    }
    // "typedef void new_void", "const void", pointers to FWD or FUNC_PROTO.
    if (!(next == 0 || nk == KIND_FWD || nk == KIND_FUNC_PROTO))
      return refuse(btf, Err.BAD_TYPE_ID, p + T_SIZE, id, "refers to " + refType(btf, next) + ", which has no size", "Invalid type_id");
  }
  popResolved(next);
  return R_OK;
}

/** btf_var_resolve: a variable's type must have a size. */
function resolveVar(btf: Btf, id: u32): i32 {
  const p = btf.ownRec(id);
  const next = load<u32>(p, T_SIZE);
  if (next >= gCnt || sourceOnly(kindOf(btf, next)))
    return refuse(btf, Err.BAD_TYPE_ID, p + T_SIZE, id, "refers to " + refType(btf, next), "Invalid type_id");
  const nk = kindOf(btf, next);
  if (!isSink(nk) && !isResolved(next)) return push(btf, next);
  if (isMod(nk)) {
    const rid = resolvedId(btf, next);
    if (rid != 0 && rid < gCnt && kindOf(btf, rid) == KIND_PTR && !isSink(KIND_PTR) && !isResolved(rid)) return push(btf, rid);
  }
  if (!typeIdSize(btf, next))
    return refuse(btf, Err.BAD_TYPE_ID, p + T_SIZE, id, "its type " + refType(btf, next) + " has no size", "Invalid type_id");
  popResolved(tisId);
  return R_OK;
}

/** btf_array_resolve: a regular int index, a sized element that is not an int bitfield. */
function resolveArray(btf: Btf, id: u32): i32 {
  const p = btf.ownRec(id);
  const q = p + COMMON_LEN;
  const index = load<u32>(q, 4);
  const ik = index < gCnt ? kindOf(btf, index) : 0;
  if (index >= gCnt || noSize(index, ik) || sourceOnly(ik))
    return refuse(btf, Err.BAD_ARRAY, q + 4, id, "index " + refType(btf, index) + " is not an integer", "Invalid index");
  if (!isSink(ik) && !isResolved(index)) return push(btf, index);
  if (!typeIdSize(btf, index) || kindOf(btf, tisId) != KIND_INT || !intRegular(btf, tisId))
    return refuse(btf, Err.BAD_ARRAY, q + 4, id, "index " + refType(btf, index) + " is not a regular integer", "Invalid index");
  const elem = load<u32>(q);
  const ek = elem < gCnt ? kindOf(btf, elem) : 0;
  if (elem >= gCnt || noSize(elem, ek) || sourceOnly(ek))
    return refuse(btf, Err.BAD_ARRAY, q, id, "element " + refType(btf, elem) + " has no size", "Invalid elem");
  if (!isSink(ek) && !isResolved(elem)) return push(btf, elem);
  if (!typeIdSize(btf, elem))
    return refuse(btf, Err.BAD_ARRAY, q, id, "element " + refType(btf, elem) + " has no size", "Invalid elem");
  const elemId = tisId;
  const elemSize = tisSize;
  if (kindOf(btf, elemId) == KIND_INT && !intRegular(btf, elemId))
    return refuse(btf, Err.BAD_ARRAY, q, id, "element " + refType(btf, elemId) + " is an int bitfield", "Invalid array of int");
  const nelems = load<u32>(q, 8);
  if (nelems != 0 && elemSize > <u32>(0xffffffff / nelems))
    return refuse(btf, Err.BAD_ARRAY, q + 8, id, nelems.toString() + " elements of " + elemSize.toString() + " bytes overflow 32 bits", "Array size overflows U32_MAX");
  popResolved(elemSize * nelems); // resolved_sizes; its resolved id (elemId) is never read back
  return R_OK;
}

/** btf_struct_resolve: every member resolved to a sized type, then checked against the struct. */
function resolveStruct(btf: Btf, id: u32): i32 {
  const p = btf.ownRec(id);
  const vlen = btf.recVlen(p);
  const kflag = infoKflag(load<u32>(p, T_INFO));
  let i = load<u32>(STACK_NEXT + (<usize>(gTop - 1) << 2));
  if (i > 0) {
    // The member pushed last time is resolved now: check it.
    const m = p + COMMON_LEN + <usize>(i - 1) * MEMBER_LEN;
    const mt = load<u32>(m, 4);
    if (!isResolved(mt)) return refuse(btf, Err.BAD_RESOLVE, m + 4, id, memberWhat(btf, m, i - 1) + " was not resolved", "Invalid resolve state");
    const r = checkMember(btf, id, p, m, i - 1, mt, kindOf(btf, mt), kflag);
    if (r != R_OK) return r;
  }
  for (; i < vlen; i++) {
    const m = p + COMMON_LEN + <usize>i * MEMBER_LEN;
    const mt = load<u32>(m, 4);
    const mk = mt < gCnt ? kindOf(btf, mt) : 0;
    if (mt >= gCnt || noSize(mt, mk) || sourceOnly(mk))
      return refuse(btf, Err.BAD_MEMBER, m + 4, id, memberWhat(btf, m, i) + " is of " + refType(btf, mt), "Invalid member");
    if (!isSink(mk) && !isResolved(mt)) {
      setNext(i + 1);
      return push(btf, mt);
    }
    const r = checkMember(btf, id, p, m, i, mt, mk, kflag);
    if (r != R_OK) return r;
  }
  popResolved(0);
  return R_OK;
}

/** btf_datasec_resolve: entries are VARs whose types fit their sizes. */
function resolveDatasec(btf: Btf, id: u32): i32 {
  const p = btf.ownRec(id);
  const vlen = btf.recVlen(p);
  gMode = MODE_TBD;
  // As the kernel: after a pushed VAR comes back resolved, the walk goes on
  // with the next entry (next_member), so that entry's size is not compared.
  for (let i = load<u32>(STACK_NEXT + (<usize>(gTop - 1) << 2)); i < vlen; i++) {
    const v = p + COMMON_LEN + <usize>i * VARSECINFO_LEN;
    const vt = load<u32>(v);
    if (vt >= gCnt || kindOf(btf, vt) != KIND_VAR)
      return refuse(btf, Err.BAD_DATASEC, v, id, "entry #" + i.toString() + " is " + refType(btf, vt) + ", not a VAR", "Not a VAR kind member");
    if (!isSink(KIND_VAR) && !isResolved(vt)) {
      setNext(i + 1);
      return push(btf, vt);
    }
    if (!typeIdSize(btf, sizeOrType(btf, vt)))
      return refuse(btf, Err.BAD_DATASEC, v, id, "entry #" + i.toString() + ": the type of VAR [" + vt.toString() + "] has no size", "Invalid type");
    const vsize = load<u32>(v, 8);
    if (vsize < tisSize)
      return refuse(btf, Err.BAD_DATASEC, v + 8, id, "entry #" + i.toString() + " size " + vsize.toString() + " is below its type's " + tisSize.toString(), "Invalid size");
  }
  popResolved(0);
  return R_OK;
}

/** btf_func_resolve -> btf_func_check: a FUNC_PROTO whose arguments all have names. */
function resolveFunc(btf: Btf, id: u32): i32 {
  const p = btf.ownRec(id);
  const proto = load<u32>(p, T_SIZE);
  if (proto >= gCnt || kindOf(btf, proto) != KIND_FUNC_PROTO)
    return refuse(btf, Err.BAD_FUNC, p + T_SIZE, id, "refers to " + refType(btf, proto) + ", not a FUNC_PROTO", "Invalid type_id");
  const pp = recOf(btf, proto);
  const n = btf.vlen(proto);
  for (let i: u32 = 0; i < n; i++) {
    const a = pp + COMMON_LEN + <usize>i * PARAM_LEN;
    if (load<u32>(a) == 0 && load<u32>(a, 4) != 0)
      return refuse(btf, Err.BAD_FUNC, p + T_SIZE, id, "argument #" + (i + 1).toString() + " of its FUNC_PROTO [" + proto.toString() + "] has no name", "Invalid arg#" + (i + 1).toString());
  }
  popResolved(proto);
  return R_OK;
}

/** btf_decl_tag_resolve: the target may carry tags; component_idx in range. */
function resolveDeclTag(btf: Btf, id: u32): i32 {
  const p = btf.ownRec(id);
  const next = load<u32>(p, T_SIZE);
  const nk = next < gCnt ? kindOf(btf, next) : 0;
  if (next >= gCnt || !(nk == KIND_FUNC || isStructKind(nk) || nk == KIND_VAR || nk == KIND_TYPEDEF))
    return refuse(btf, Err.BAD_DECL_TAG, p + T_SIZE, id, "target " + refType(btf, next) + " cannot carry a tag", "Invalid type_id");
  if (!isSink(nk) && !isResolved(next)) return push(btf, next);
  const idx = load<i32>(p, COMMON_LEN);
  if (idx != -1) {
    if (nk == KIND_VAR || nk == KIND_TYPEDEF)
      return refuse(btf, Err.BAD_DECL_TAG, p + COMMON_LEN, id, "component_idx " + idx.toString() + " on a " + kindName(nk), "Invalid component_idx");
    const vlen = isStructKind(nk) ? btf.vlen(next) : btf.vlen(sizeOrType(btf, next));
    if (<u32>idx >= vlen)
      return refuse(btf, Err.BAD_DECL_TAG, p + COMMON_LEN, id, "component_idx " + idx.toString() + " is not below " + vlen.toString(), "Invalid component_idx");
  }
  popResolved(next);
  return R_OK;
}

// ---- member checks (the check_member / check_kflag_member ops) ------------------

/**
 * The member check the kernel runs for a member whose type is `mt`: the
 * kind's check_kflag_member when the struct has kind_flag, else its
 * check_member. A modifier first resolves to its sized type (btf_modifier_check_member).
 */
function checkMember(btf: Btf, sid: u32, sp: usize, m: usize, idx: u32, mt: u32, mk: u32, kflag: bool): i32 {
  let t = mt;
  let k = mk;
  if (isMod(k)) {
    if (!typeIdSize(btf, t))
      return refuse(btf, Err.BAD_MEMBER, m + 4, sid, memberWhat(btf, m, idx) + ": " + refType(btf, mt) + " has no size", "Invalid member");
    t = tisId;
    k = kindOf(btf, t);
  }
  const raw = load<u32>(m, 8);
  const ssize = load<u32>(sp, T_SIZE);
  if (kflag) {
    if (k == KIND_INT) return intKflagMember(btf, sid, m, idx, t, raw, ssize);
    if (k == KIND_ENUM || k == KIND_ENUM64) return enumKflagMember(btf, sid, m, idx, raw, ssize);
    if (k == KIND_PTR || k == KIND_ARRAY || isStructKind(k) || k == KIND_FLOAT) {
      // btf_generic_check_kflag_member: no bitfield, then the plain check.
      if ((raw >> 24) != 0)
        return refuse(btf, Err.BAD_BITFIELD, m + 8, sid, memberWhat(btf, m, idx) + ": a " + kindName(k) + " cannot be a bitfield", "Invalid member bitfield_size");
    } else return refuse(btf, Err.BAD_MEMBER, m + 4, sid, memberWhat(btf, m, idx) + " of " + refType(btf, t), "Unsupported check_kflag_member");
  }
  switch (k) {
    case KIND_INT: return intMember(btf, sid, m, idx, t, raw, ssize);
    case KIND_PTR: return sizedMember(btf, sid, m, idx, raw, ssize, PTR_SIZE);
    case KIND_ARRAY: {
      typeIdSize(btf, t);
      return sizedMember(btf, sid, m, idx, raw, ssize, tisSize);
    }
    case KIND_STRUCT: case KIND_UNION: case KIND_ENUM: case KIND_ENUM64:
      return sizedMember(btf, sid, m, idx, raw, ssize, sizeOrType(btf, t));
    case KIND_FLOAT: return floatMember(btf, sid, m, idx, raw, ssize, sizeOrType(btf, t));
  }
  return refuse(btf, Err.BAD_MEMBER, m + 4, sid, memberWhat(btf, m, idx) + " of " + refType(btf, t), "Unsupported check_member");
}

function exceeds(btf: Btf, sid: u32, m: usize, idx: u32, ssize: u32): i32 {
  return refuse(btf, Err.BAD_MEMBER, m + 8, sid, memberWhat(btf, m, idx) + " ends beyond the struct size " + ssize.toString(), "Member exceeds struct_size");
}

/** btf_ptr/array/struct/enum_check_member: byte aligned, fits in the struct. */
function sizedMember(btf: Btf, sid: u32, m: usize, idx: u32, off: u32, ssize: u32, msize: u32): i32 {
  if ((off & 7) != 0)
    return refuse(btf, Err.BAD_MEMBER, m + 8, sid, memberWhat(btf, m, idx) + " at bit " + off.toString() + " is not byte aligned", "Member is not byte aligned");
  if (ssize - (off >> 3) < msize) return exceeds(btf, sid, m, idx, ssize); // u32 arithmetic, as the kernel
  return R_OK;
}

/** btf_int_check_member. */
function intMember(btf: Btf, sid: u32, m: usize, idx: u32, t: u32, off: u32, ssize: u32): i32 {
  const w = load<u32>(recOf(btf, t), COMMON_LEN);
  if (0xffffffff - off < intOffset(w))
    return refuse(btf, Err.BAD_MEMBER, m + 8, sid, memberWhat(btf, m, idx) + ": bit offset overflows", "bits_offset exceeds U32_MAX");
  off += intOffset(w);
  const bytesOff = off >> 3;
  const copyBits = intBits(w) + (off & 7);
  if (copyBits > 128)
    return refuse(btf, Err.BAD_MEMBER, m + 8, sid, memberWhat(btf, m, idx) + " spans " + copyBits.toString() + " bits", "nr_copy_bits exceeds 128");
  if (ssize < bytesOff || ssize - bytesOff < ((copyBits + 7) >> 3)) return exceeds(btf, sid, m, idx, ssize);
  return R_OK;
}

/** btf_int_check_kflag_member. */
function intKflagMember(btf: Btf, sid: u32, m: usize, idx: u32, t: u32, raw: u32, ssize: u32): i32 {
  if (!intRegular(btf, t))
    return refuse(btf, Err.BAD_BITFIELD, m + 4, sid, memberWhat(btf, m, idx) + ": base " + refType(btf, t) + " is not a regular int", "Invalid member base type");
  const w = load<u32>(recOf(btf, t), COMMON_LEN);
  let bits = raw >> 24;
  const off = raw & 0xffffff;
  if (bits == 0) {
    if ((off & 7) != 0)
      return refuse(btf, Err.BAD_MEMBER, m + 8, sid, memberWhat(btf, m, idx) + " at bit " + off.toString() + " is not a bitfield and not byte aligned", "Invalid member offset");
    bits = intBits(w);
  } else if (bits > intBits(w))
    return refuse(btf, Err.BAD_BITFIELD, m + 8, sid, memberWhat(btf, m, idx) + ": bitfield of " + bits.toString() + " bits in a " + intBits(w).toString() + "-bit int", "Invalid member bitfield_size");
  const bytesOff = off >> 3;
  const copyBits = bits + (off & 7);
  if (copyBits > 128)
    return refuse(btf, Err.BAD_MEMBER, m + 8, sid, memberWhat(btf, m, idx) + " spans " + copyBits.toString() + " bits", "nr_copy_bits exceeds 128");
  if (ssize < bytesOff || ssize - bytesOff < ((copyBits + 7) >> 3)) return exceeds(btf, sid, m, idx, ssize);
  return R_OK;
}

/** btf_enum_check_kflag_member: an enum bitfield is at most 32 bits. */
function enumKflagMember(btf: Btf, sid: u32, m: usize, idx: u32, raw: u32, ssize: u32): i32 {
  let bits = raw >> 24;
  const off = raw & 0xffffff;
  if (bits == 0) {
    if ((off & 7) != 0)
      return refuse(btf, Err.BAD_MEMBER, m + 8, sid, memberWhat(btf, m, idx) + " at bit " + off.toString() + " is not byte aligned", "Member is not byte aligned");
    bits = 32;
  } else if (bits > 32)
    return refuse(btf, Err.BAD_BITFIELD, m + 8, sid, memberWhat(btf, m, idx) + ": enum bitfield of " + bits.toString() + " bits", "Invalid member bitfield_size");
  if (ssize < ((off + bits + 7) >> 3)) return exceeds(btf, sid, m, idx, ssize);
  return R_OK;
}

/** btf_float_check_member: aligned to min(8, size) bytes, fits in the struct. */
function floatMember(btf: Btf, sid: u32, m: usize, idx: u32, off: u32, ssize: u32, fsize: u32): i32 {
  const alignBits = min<u32>(PTR_SIZE, fsize) * 8;
  if (off % alignBits != 0)
    return refuse(btf, Err.BAD_MEMBER, m + 8, sid, memberWhat(btf, m, idx) + " at bit " + off.toString() + " is not aligned to " + (alignBits >> 3).toString() + " bytes", "Member is not properly aligned");
  if (<u64>(off >> 3) + <u64>fsize > <u64>ssize) return exceeds(btf, sid, m, idx, ssize);
  return R_OK;
}

// ---- btf_func_proto_check -------------------------------------------------------

/** A sized (or void) return type; sized, named-or-anonymous arguments; vararg only last and unnamed. */
function funcProtoCheck(btf: Btf, id: u32): bool {
  const p = btf.ownRec(id);
  const ret = load<u32>(p, T_SIZE);
  if (ret != 0) {
    if (ret >= gCnt || sourceOnly(kindOf(btf, ret))) {
      refuse(btf, Err.BAD_FUNC, p + T_SIZE, id, "returns " + refType(btf, ret), "Invalid return type");
      return false;
    }
    if (needsResolve(kindOf(btf, ret)) && !isResolved(ret) && !btfResolve(btf, ret)) return false;
    if (!typeIdSize(btf, ret)) {
      refuse(btf, Err.BAD_FUNC, p + T_SIZE, id, "returns " + refType(btf, ret) + ", which has no size", "Invalid return type");
      return false;
    }
  }
  let n = btf.recVlen(p);
  if (n == 0) return true;
  const last = p + COMMON_LEN + <usize>(n - 1) * PARAM_LEN;
  if (load<u32>(last, 4) == 0) {
    if (load<u32>(last) != 0) {
      refuse(btf, Err.BAD_FUNC, last, id, "the vararg (last argument) has a name", "Invalid arg#" + n.toString());
      return false;
    }
    n--;
  }
  for (let i: u32 = 0; i < n; i++) {
    const a = p + COMMON_LEN + <usize>i * PARAM_LEN;
    const at = load<u32>(a, 4);
    const ak = at < gCnt ? kindOf(btf, at) : 0;
    if (at >= gCnt || sourceOnly(ak)) {
      refuse(btf, Err.BAD_FUNC, a + 4, id, "argument #" + (i + 1).toString() + " is of " + refType(btf, at), "Invalid arg#" + (i + 1).toString());
      return false;
    }
    const nm = load<u32>(a);
    if (nm != 0 && (nm > BTF_MAX_NAME_OFFSET || nm >= btf.strEnd() || !validIdentifier(btf, nm))) {
      refuse(btf, Err.BAD_FUNC, a, id, "argument #" + (i + 1).toString() + " has an invalid name", "Invalid arg#" + (i + 1).toString());
      return false;
    }
    if (needsResolve(ak) && !isResolved(at) && !btfResolve(btf, at)) return false;
    if (!typeIdSize(btf, at)) {
      refuse(btf, Err.BAD_FUNC, a + 4, id, "argument #" + (i + 1).toString() + " is of " + refType(btf, at) + (at == 0 ? " (a vararg before the last argument)" : ", which has no size"), "Invalid arg#" + (i + 1).toString());
      return false;
    }
  }
  return true;
}
