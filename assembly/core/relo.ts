// The CO-RE resolver: libbpf's bpf_core_calc_relo_insn, bpf_core_calc_relo
// (field, type and enum value kinds, bitfield rules, memory size adjustment)
// and bpf_core_patch_insn (upstream f7081a6), driven over every record of an
// object the way libbpf's bpf_object__relocate_core / bpftool's btfgen drive
// them: one candidate list per local root type id for the whole object
// (vmlinux first; module BTFs, in the order given, only when vmlinux has
// none), pruned to the matching candidates after each record that matches.
// Where libbpf stops at the first error, this goes on with the next record;
// a failing record leaves its type's candidate list as it was.
//
// For other features (bpftool gen min_core_btf marks types from each
// record's TARGET spec, libbpf's specs_scratch[2]): `resolveCore` fills a
// CoreRun whose `records` hold, per record in object order, a RecordResult;
// its `targSpec` (a Spec, see spec.ts) is the first matching candidate's
// spec: `targSpec.btf` (vmlinux or a module Btf; `targSel` says which: 0 =
// vmlinux, k+1 = module k), `targSpec.rootId` (the candidate's id), the
// accessors `accType[i]`/`accIdx[i]` for i < `targSpec.len` and the raw
// indices `raw[i]` for i < `targSpec.rawLen`, and `targSpec.kind` (the
// relocation kind). `hasTarget` is false when nothing matched (and for
// local_type_id and errors); then targSpec must not be read.

import { Btf } from "../btf";
import { CoreObject, CoreSection, TYPE_ID_LOCAL, TYPE_ID_TARGET, TYPE_EXISTS, TYPE_MATCHES, TYPE_SIZE,
  FIELD_BYTE_OFFSET, FIELD_BYTE_SIZE, FIELD_EXISTS, FIELD_SIGNED, FIELD_LSHIFT_U64, FIELD_RSHIFT_U64,
  ENUMVAL_EXISTS, ENUMVAL_VALUE } from "./object";
import {
  Spec, parseSpec, parseUnexpectedKind, specMatch, skip, resolveSize, isFieldBased, isTypeBased,
  isEnumvalBased, isAnyEnum, member, essLenOf, enumValue, EINVAL, E2BIG, EOPNOTSUPP, ERANGE,
} from "./spec";
import { CandList, addCands, hasCands } from "./cands";
import { KIND_ARRAY, KIND_PTR, KIND_INT, intEncoding, memberBitfieldSize, INT_ENC_SIGNED } from "../format";
import { U32Map } from "../u32map";

// Failure reasons (the TSV's `reason` tokens, in this order; 0 is "-").
export const R_NONE: u32 = 0;
export const R_FIELD_OFFSET_AMBIGUITY: u32 = 1;
export const R_DECISION_AMBIGUITY: u32 = 2;
export const R_CAND_MATCH_ERROR: u32 = 3;
export const R_BITFIELD_TOO_BIG: u32 = 4;
export const R_BAD_LOCAL_SPEC: u32 = 5;
export const R_ANON_TYPE: u32 = 6;
export const R_CAND_SEARCH_FAILED: u32 = 7;
export const R_ARRAY_ACCESS_KIND: u32 = 8;
export const R_UNKNOWN_KIND: u32 = 9;
export const R_UNEXPECTED_KIND: u32 = 10;
export const R_INSN_VALUE_MISMATCH: u32 = 11;
export const R_INSN_OFF_TOO_BIG: u32 = 12;
export const R_INSN_MEM_SIZE_MISMATCH: u32 = 13;
export const R_INSN_BAD_NEW_MEM_SIZE: u32 = 14;
export const R_INSN_BAD_LDIMM64: u32 = 15;
export const R_INSN_UNRECOGNIZED: u32 = 16;
export const R_OTHER: u32 = 17;

export const ST_OK: u32 = 0;
export const ST_POISON: u32 = 1;
export const ST_ERROR: u32 = 2;

export const PATCH_NONE: u32 = 0;
export const PATCH_OK: u32 = 1;
export const PATCH_POISON: u32 = 2;
export const PATCH_ERROR: u32 = 3;

/** call 0xbad2310, libbpf's poison instruction. */
export const POISON_INSN: u64 = 0x0bad231000000085;

/** struct bpf_core_relo_res */
class Res {
  origVal: u64 = 0;
  newVal: u64 = 0;
  poison: bool = false;
  validate: bool = true;
  failMemsz: bool = false;
  origSz: u32 = 0;
  newSz: u32 = 0;
  origTypeId: u32 = 0;
  newTypeId: u32 = 0;
  copyFrom(o: Res): void {
    this.origVal = o.origVal; this.newVal = o.newVal; this.poison = o.poison; this.validate = o.validate;
    this.failMemsz = o.failMemsz; this.origSz = o.origSz; this.newSz = o.newSz;
    this.origTypeId = o.origTypeId; this.newTypeId = o.newTypeId;
  }
}

/** What the resolver decided for one record (the TSV's columns from `status` on). */
export class RecordResult {
  status: u32 = ST_OK;
  origVal: u64 = 0;
  newVal: u64 = 0;
  validate: bool = false;
  failMemsz: bool = false;
  hasTarget: bool = false;
  targSel: u32 = 0;
  targSpec: Spec = new Spec();
  /** -1 when not applicable. */
  cands: i32 = -1;
  matched: i32 = -1;
  patch: u32 = PATCH_NONE;
  insnLen: u32 = 0;
  insn0: u64 = 0;
  insn1: u64 = 0;
  errno: i32 = 0;
  reason: u32 = R_NONE;
}

/** The targets of a run: vmlinux and module BTFs (split on it), in search order. */
export class CoreTargets {
  vmlinux: Btf;
  modules: Array<Btf> = new Array<Btf>();
  constructor(v: Btf) { this.vmlinux = v; }
  btf(sel: u32): Btf { return sel == 0 ? this.vmlinux : this.modules[<i32>sel - 1]; }
}

export class CoreRun {
  records: Array<RecordResult> = new Array<RecordResult>();
}

// ---- scratch (libbpf's specs_scratch) ----------------------------------------------
const localSpec = new Spec();
const candSpec = new Spec();
const candRes = new Res();
const targRes = new Res();
let calcReason: u32 = R_NONE;

/** bpf_core_calc_field_relo. Returns 0, or a negative errno with calcReason set; -EUCLEAN is poison. */
const EUCLEAN: i32 = 117;
let fieldSz: u32 = 0;
let fieldTypeId: u32 = 0;
let fieldValidate: bool = true;

function calcFieldRelo(kind: u32, spec: Spec | null, isLocal: bool): i64 {
  // Returns the value (>= 0 as u64 in the low bits via fieldVal) or an error.
  fieldSz = 0;
  if (kind == FIELD_EXISTS) { fieldVal = spec !== null ? 1 : 0; return 0; }
  if (spec === null) return -EUCLEAN;
  const b = spec.btf!;
  const last = spec.len - 1;
  const accType = unchecked(spec.accType[last]);
  const accIdx = unchecked(spec.accIdx[last]);
  if (unchecked(spec.accName[last]) == 0) {
    if (kind == FIELD_BYTE_OFFSET) {
      fieldVal = <u64>(spec.bitOffset / 8);
      let elem = skip(b, accType);
      while (b.kind(elem) == KIND_ARRAY) elem = skip(b, load<u32>(b.extra(elem)));
      const sz = resolveSize(b, elem);
      if (sz < 0) { calcReason = R_OTHER; return -EINVAL; }
      fieldSz = <u32>sz;
      fieldTypeId = accType;
    } else if (kind == FIELD_BYTE_SIZE) {
      const sz = resolveSize(b, accType);
      if (sz < 0) { calcReason = R_OTHER; return -EINVAL; }
      fieldVal = <u64>sz;
    } else {
      calcReason = R_ARRAY_ACCESS_KIND;
      return -EINVAL;
    }
    if (isLocal) fieldValidate = true;
    return 0;
  }
  const m = member(b, accType, accIdx);
  const ftype = skip(b, load<u32>(m, 4));
  const bitOff = spec.bitOffset;
  let bitSz = memberBitfieldSize(load<u32>(m, 8), b.kflag(accType));
  const bitfield = bitSz > 0;
  let byteSz: u32;
  let byteOff: u32;
  if (bitfield) {
    byteSz = b.sizeOrType(ftype);
    // A bitfield's type is an int or enum (size > 0 after validation); 0 would divide by zero in libbpf too.
    if (byteSz == 0) { calcReason = R_OTHER; return -EINVAL; }
    byteOff = bitOff / 8 / byteSz * byteSz;
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) { calcReason = R_BITFIELD_TOO_BIG; return -E2BIG; }
      byteSz *= 2;
      byteOff = bitOff / 8 / byteSz * byteSz;
    }
  } else {
    const sz = resolveSize(b, ftype);
    if (sz < 0) { calcReason = R_OTHER; return -EINVAL; }
    byteSz = <u32>sz;
    byteOff = spec.bitOffset / 8;
    bitSz = byteSz * 8;
  }
  if (isLocal) fieldValidate = !bitfield;
  switch (kind) {
    case FIELD_BYTE_OFFSET: {
      fieldVal = <u64>byteOff;
      if (!bitfield) {
        let elem = ftype;
        while (b.kind(elem) == KIND_ARRAY) elem = skip(b, load<u32>(b.extra(elem)));
        const sz = resolveSize(b, elem);
        if (sz < 0) { calcReason = R_OTHER; return -EINVAL; }
        fieldSz = <u32>sz;
        fieldTypeId = ftype;
      }
      break;
    }
    case FIELD_BYTE_SIZE:
      fieldVal = <u64>byteSz;
      break;
    case FIELD_SIGNED: {
      const k = b.kind(ftype);
      fieldVal = ((isAnyEnum(k) && b.kflag(ftype)) || (k == KIND_INT && (intEncoding(load<u32>(b.extra(ftype))) & INT_ENC_SIGNED) != 0)) ? 1 : 0;
      if (isLocal) fieldValidate = true;
      break;
    }
    case FIELD_LSHIFT_U64:
      // libbpf as built for a little-endian host.
      fieldVal = <u64>(<u32>64 - (bitOff + bitSz - byteOff * 8));
      break;
    case FIELD_RSHIFT_U64:
      fieldVal = <u64>(<u32>64 - bitSz);
      if (isLocal) fieldValidate = true;
      break;
    default:
      calcReason = R_UNKNOWN_KIND;
      return -EOPNOTSUPP;
  }
  return 0;
}
let fieldVal: u64 = 0;

function calcTypeRelo(kind: u32, spec: Spec | null): i32 {
  if (spec === null) { fieldVal = 0; return 0; }
  switch (kind) {
    case TYPE_ID_TARGET: fieldVal = <u64>spec.rootId; fieldValidate = false; break;
    case TYPE_EXISTS: case TYPE_MATCHES: fieldVal = 1; break;
    case TYPE_SIZE: {
      const sz = resolveSize(spec.btf!, spec.rootId);
      if (sz < 0) { calcReason = R_OTHER; return -EINVAL; }
      fieldVal = <u64>sz;
      break;
    }
    default:
      calcReason = R_UNKNOWN_KIND;
      return -EOPNOTSUPP;
  }
  return 0;
}

function calcEnumvalRelo(kind: u32, spec: Spec | null): i32 {
  if (kind == ENUMVAL_EXISTS) { fieldVal = spec !== null ? 1 : 0; return 0; }
  if (kind == ENUMVAL_VALUE) {
    if (spec === null) return -EUCLEAN;
    fieldVal = enumValue(spec.btf!, unchecked(spec.accType[0]), unchecked(spec.accIdx[0]));
    return 0;
  }
  calcReason = R_UNKNOWN_KIND;
  return -EOPNOTSUPP;
}

/** bpf_core_calc_relo into `res`; 0 or a negative errno (calcReason says why). */
function calcRelo(kind: u32, local: Spec, targ: Spec | null, res: Res): i32 {
  res.origVal = 0; res.newVal = 0; res.poison = false; res.validate = true; res.failMemsz = false;
  res.origSz = 0; res.newSz = 0; res.origTypeId = 0; res.newTypeId = 0;
  let err: i32 = -EOPNOTSUPP;
  if (isFieldBased(kind)) {
    fieldValidate = true;
    fieldTypeId = 0;
    err = <i32>calcFieldRelo(kind, local, true);
    if (err == 0) {
      res.origVal = fieldVal; res.origSz = fieldSz; res.origTypeId = fieldTypeId; res.validate = fieldValidate;
      fieldTypeId = 0;
      err = <i32>calcFieldRelo(kind, targ, false);
      if (err == 0) { res.newVal = fieldVal; res.newSz = fieldSz; res.newTypeId = fieldTypeId; }
    } else {
      // libbpf's local call may have set validate before failing.
      res.validate = fieldValidate;
    }
    if (err == 0 && res.origSz != res.newSz) {
      const lb = local.btf!;
      const tb = targ!.btf!;
      const ok = (lb.kind(res.origTypeId) == KIND_PTR && tb.kind(res.newTypeId) == KIND_PTR) ||
        (lb.kind(res.origTypeId) == KIND_INT && tb.kind(res.newTypeId) == KIND_INT &&
          intEncoding(load<u32>(lb.extra(res.origTypeId))) != INT_ENC_SIGNED &&
          intEncoding(load<u32>(tb.extra(res.newTypeId))) != INT_ENC_SIGNED);
      if (!ok) res.failMemsz = true;
    }
  } else if (isTypeBased(kind)) {
    fieldValidate = true;
    err = calcTypeRelo(kind, local);
    res.validate = fieldValidate;
    if (err == 0) {
      res.origVal = fieldVal;
      err = calcTypeRelo(kind, targ);
      if (err == 0) res.newVal = fieldVal;
    }
  } else if (isEnumvalBased(kind)) {
    err = calcEnumvalRelo(kind, local);
    if (err == 0) {
      res.origVal = fieldVal;
      err = calcEnumvalRelo(kind, targ);
      if (err == 0) res.newVal = fieldVal;
    }
  } else {
    calcReason = R_UNKNOWN_KIND;
  }
  if (err == -EUCLEAN) { res.poison = true; err = 0; }
  return err;
}

// ---- the driver ---------------------------------------------------------------------

/**
 * Resolve every CO-RE record of `obj` against `t`. Each record's result goes
 * to run.records, in object order.
 */
export function resolveCore(obj: CoreObject, t: CoreTargets, run: CoreRun): void {
  const lb = obj.btf;
  const cacheIdx = new U32Map(64);
  const lists = new Array<CandList>();
  const saved = new CandList();
  const n = obj.count();
  for (let r = 0; r < n; r++) {
    const out = new RecordResult();
    run.records.push(out);
    const kind = obj.kind[r];
    const localId = obj.typeId[r];
    if (localId >= lb.typeCnt()) {
      // No such local type: libbpf's candidate search (or, for local_type_id, its spec parsing) fails.
      out.status = ST_ERROR;
      out.errno = EINVAL;
      out.reason = kind == TYPE_ID_LOCAL ? R_BAD_LOCAL_SPEC : R_CAND_SEARCH_FAILED;
      continue;
    }
    let cands: CandList | null = null;
    if (kind != TYPE_ID_LOCAL) {
      const li = cacheIdx.get(localId, 0xffffffff);
      if (li != 0xffffffff) cands = lists[<i32>li];
      else {
        cands = findCands(lb, localId, t);
        cacheIdx.set(localId, <u32>lists.length);
        lists.push(cands);
      }
      saved.copyFrom(cands);
    }
    const err = calcReloInsn(obj, r, t, cands, out);
    if (err != 0) {
      out.status = ST_ERROR;
      out.errno = -err;
      out.hasTarget = false;
      if (cands !== null) cands.copyFrom(saved);
      continue;
    }
    out.status = targRes.poison ? ST_POISON : ST_OK;
    out.origVal = targRes.origVal;
    out.newVal = targRes.newVal;
    out.validate = targRes.validate;
    out.failMemsz = targRes.failMemsz;
    patchInsn(obj, r, out);
  }
  cacheIdx.dispose();
}

/** libbpf's candidate search for local type `id` (bpftool btfgen's form: an anonymous type gets an empty list). */
function findCands(lb: Btf, id: u32, t: CoreTargets): CandList {
  const out = new CandList();
  const name = lb.name(id);
  const len = essLenOf(name);
  const k = lb.kind(id);
  addCands(name, len, k, t.vmlinux, 0, out);
  if (out.length > 0) return out;
  for (let i = 0; i < t.modules.length; i++) addCands(name, len, k, t.modules[i], <u32>i + 1, out);
  return out;
}

/** Would any record of `obj` search the module BTFs (no candidate in vmlinux)? */
export function needsModules(obj: CoreObject, vmlinux: Btf): bool {
  const lb = obj.btf;
  const n = obj.count();
  for (let r = 0; r < n; r++) {
    if (obj.kind[r] == TYPE_ID_LOCAL) continue;
    const id = obj.typeId[r];
    if (id >= lb.typeCnt()) continue;
    const name = lb.name(id);
    const len = essLenOf(name);
    if (len == 0) continue;
    if (!hasCands(name, len, lb.kind(id), vmlinux)) return true;
  }
  return false;
}

/** bpf_core_calc_relo_insn for record r. 0 (targRes and out filled) or a negative errno (out.reason set). */
function calcReloInsn(obj: CoreObject, r: i32, t: CoreTargets, cands: CandList | null, out: RecordResult): i32 {
  const lb = obj.btf;
  const kind = obj.kind[r];
  const localId = obj.typeId[r];
  const e = parseSpec(lb, localId, lb.str(obj.accessOff[r]), kind, localSpec);
  if (e != 0) {
    out.reason = parseUnexpectedKind ? R_UNEXPECTED_KIND : R_BAD_LOCAL_SPEC;
    if (cands !== null) out.cands = cands.length;
    return -EINVAL;
  }
  if (kind == TYPE_ID_LOCAL) {
    targRes.origVal = <u64>localId; targRes.newVal = <u64>localId;
    targRes.validate = false; targRes.poison = false; targRes.failMemsz = false;
    targRes.origSz = 0; targRes.newSz = 0; targRes.origTypeId = 0; targRes.newTypeId = 0;
    out.hasTarget = false;
    return 0;
  }
  const list = cands!;
  out.cands = list.length;
  if (load<u8>(lb.name(localId)) == 0) { out.reason = R_ANON_TYPE; return -EOPNOTSUPP; }
  let j = 0;
  for (let i = 0; i < list.length; i++) {
    const sel = list.sel[i];
    const tb = t.btf(sel);
    const m = specMatch(localSpec, tb, list.ids[i], candSpec);
    if (m < 0) { out.reason = R_CAND_MATCH_ERROR; return m; }
    if (m == 0) continue;
    calcReason = R_OTHER;
    const err = calcRelo(kind, localSpec, candSpec, candRes);
    if (err != 0) { out.reason = calcReason; return err; }
    if (j == 0) {
      targRes.copyFrom(candRes);
      out.targSpec.copyFrom(candSpec);
      out.targSel = sel;
    } else if (candSpec.bitOffset != out.targSpec.bitOffset) {
      out.reason = R_FIELD_OFFSET_AMBIGUITY;
      return -EINVAL;
    } else if (candRes.poison != targRes.poison || candRes.newVal != targRes.newVal) {
      out.reason = R_DECISION_AMBIGUITY;
      return -EINVAL;
    }
    list.sel[j] = sel;
    list.ids[j] = list.ids[i];
    j++;
  }
  out.matched = j;
  out.hasTarget = j > 0;
  if (j > 0) {
    list.sel.length = j;
    list.ids.length = j;
  } else {
    calcReason = R_OTHER;
    const err = calcRelo(kind, localSpec, null, targRes);
    if (err != 0) { out.reason = calcReason; return err; }
  }
  return 0;
}

// ---- bpf_core_patch_insn -------------------------------------------------------------

const BPF_LD: u32 = 0;
const BPF_LDX: u32 = 1;
const BPF_ST: u32 = 2;
const BPF_STX: u32 = 3;
const BPF_ALU: u32 = 4;
const BPF_ALU64: u32 = 7;
const LDIMM64: u32 = 0x18;

function sizeBytes(code: u32): u32 {
  const s = code & 0x18;
  return s == 0x18 ? 8 : s == 0x00 ? 4 : s == 0x08 ? 2 : 1;
}

function patchInsn(obj: CoreObject, r: i32, out: RecordResult): void {
  const s: CoreSection = obj.sections[<i32>obj.recSec[r]];
  const off = obj.insnOff[r];
  let insn = obj.insnAt(s, off);
  const code = <u32>(insn & 0xff);
  const hasNext = <u64>off + 16 <= <u64>s.dataSize;
  let next: u64 = hasNext ? obj.insnAt(s, off + 8) : 0;
  const cls = code & 7;
  if (targRes.poison) { poison(out, code, hasNext); return; }
  const origVal = targRes.origVal;
  const newVal = targRes.newVal;
  if (cls == BPF_ALU || cls == BPF_ALU64) {
    if ((code & 0x08) != 0) { patchFail(out, EINVAL, R_OTHER); return; }
    const imm = <u64><i64><i32>(insn >> 32);
    if (targRes.validate && imm != origVal) { patchFail(out, EINVAL, R_INSN_VALUE_MISMATCH); return; }
    insn = (insn & 0xffffffff) | ((newVal & 0xffffffff) << 32);
  } else if (cls == BPF_LDX || cls == BPF_ST || cls == BPF_STX) {
    const ioff = <u64><i64><i16>(<u16>(insn >> 16));
    if (targRes.validate && ioff != origVal) { patchFail(out, EINVAL, R_INSN_VALUE_MISMATCH); return; }
    if (newVal > 32767) { patchFail(out, ERANGE, R_INSN_OFF_TOO_BIG); return; }
    if (targRes.failMemsz) { poison(out, code, hasNext); return; }
    insn = (insn & ~(<u64>0xffff << 16)) | ((newVal & 0xffff) << 16);
    if (targRes.newSz != targRes.origSz) {
      if (sizeBytes(code) != targRes.origSz) { patchFail(out, EINVAL, R_INSN_MEM_SIZE_MISMATCH); return; }
      const ns = targRes.newSz;
      let bs: u32;
      if (ns == 8) bs = 0x18; else if (ns == 4) bs = 0x00; else if (ns == 2) bs = 0x08; else if (ns == 1) bs = 0x10;
      else { patchFail(out, EINVAL, R_INSN_BAD_NEW_MEM_SIZE); return; }
      const nc = (code & 0xe0) | bs | cls;
      insn = (insn & ~<u64>0xff) | <u64>nc;
    }
  } else if (cls == BPF_LD) {
    if (code != LDIMM64 || !hasNext || ((insn >> 12) & 0xf) != 0 || ((insn >> 16) & 0xffff) != 0 ||
        (next & 0xff) != 0 || ((next >> 8) & 0xff) != 0 || ((next >> 16) & 0xffff) != 0) {
      patchFail(out, EINVAL, R_INSN_BAD_LDIMM64);
      return;
    }
    const imm = (insn >> 32) | (next & 0xffffffff00000000);
    if (targRes.validate && imm != origVal) { patchFail(out, EINVAL, R_INSN_VALUE_MISMATCH); return; }
    insn = (insn & 0xffffffff) | ((newVal & 0xffffffff) << 32);
    next = (next & 0xffffffff) | (newVal & 0xffffffff00000000);
    out.patch = PATCH_OK;
    out.insnLen = 16;
    out.insn0 = insn;
    out.insn1 = next;
    return;
  } else {
    patchFail(out, EINVAL, R_INSN_UNRECOGNIZED);
    return;
  }
  out.patch = PATCH_OK;
  out.insnLen = 8;
  out.insn0 = insn;
}

function poison(out: RecordResult, code: u32, hasNext: bool): void {
  out.patch = PATCH_POISON;
  out.insn0 = POISON_INSN;
  if (code == LDIMM64 && hasNext) {
    out.insn1 = POISON_INSN;
    out.insnLen = 16;
  } else out.insnLen = 8;
}

function patchFail(out: RecordResult, errno: i32, reason: u32): void {
  out.patch = PATCH_ERROR;
  out.errno = errno;
  out.reason = reason;
}

