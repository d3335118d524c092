// Exports for CO-RE relocation (core/): open a BPF object, resolve its
// records against a vmlinux BTF and module BTFs, read the results.
//
// coreResolve's result, all little-endian u32 unless said otherwise:
//   header: nSections, nRecords; per section {elfIndex, dataSize, nRecords,
//   name (NUL-terminated, padded with NULs to a multiple of 4)}
//   per record: 27 words
//     0 section index, 1 index in section, 2 insn_off, 3 kind, 4 local id,
//     5 local kind (0xffffffff: no such type), 6 status (0 ok, 1 poison, 2 error),
//     7 flags (1 validate, 2 memsz_fail, 4 has target), 8-9 orig_val (u64), 10-11 new_val,
//     12 target (0 vmlinux, k+1 module k), 13 target id, 14 target bit offset,
//     15 cands (i32, -1 none), 16 matched (i32, -1 none), 17 patch (0 none, 1 ok, 2 poison, 3 error),
//     18 insn length (0, 8, 16), 19-22 patched instruction (two u64, little-endian layout),
//     23 errno, 24 reason, 25 target raw spec length n, 26 file offset of the record
//   then n u32 target raw spec entries, then four NUL-terminated strings:
//   local type name, access string, local access in C terms, target access in
//   C terms; padded with NULs to a multiple of 4.

import { clearError, fail, Err } from "../errors";
import { getBtf, newResult } from "../handles";
import { ByteSink } from "../sink";
import { CoreObject, readCoreObject } from "../core/object";
import { CoreTargets, CoreRun, resolveCore, needsModules, RecordResult } from "../core/relo";
import { Spec, isFieldBased, isEnumvalBased, enumValue, parseSpec } from "../core/spec";
import { KIND_ENUM, KIND_MAX, KIND_NAMES } from "../format";
import { Btf } from "../btf";

const objects = new Array<CoreObject | null>();

function getObj(h: i32): CoreObject | null {
  if (h < 0 || h >= objects.length || objects[h] === null) {
    fail(Err.BAD_HANDLE, -1, 0, "invalid BPF object handle " + h.toString());
    return null;
  }
  return objects[h];
}

/** Read a BPF object from [ptr, ptr+len) (memory from memAlloc; taken on success). Handle or -1. */
export function coreObjectOpen(ptr: usize, len: u32): i32 {
  clearError();
  const o = readCoreObject(ptr, len);
  if (o === null) return -1;
  for (let i = 0; i < objects.length; i++) {
    if (objects[i] === null) { objects[i] = o; return i; }
  }
  objects.push(o);
  return objects.length - 1;
}

export function coreObjectFree(h: i32): void {
  if (h < 0 || h >= objects.length || objects[h] === null) return;
  objects[h]!.dispose();
  objects[h] = null;
  __collect();
}

/** Number of CO-RE records. */
export function coreObjectRecords(h: i32): i32 {
  const o = getObj(h);
  return o === null ? -1 : o.count();
}

/** 1 when some record has no candidate in vmlinux (the module BTFs will be searched), 0, or -1. */
export function coreNeedsModules(h: i32, vmlinux: i32): i32 {
  clearError();
  const o = getObj(h);
  const v = getBtf(vmlinux);
  if (o === null || v === null) return -1;
  return needsModules(o, v) ? 1 : 0;
}

/**
 * Resolve every record of object `h` against vmlinux handle `vmlinux` and
 * the `nMods` module handles (u32 each) at `mods`, in search order. The
 * result is described at the top of this file.
 */
export function coreResolve(h: i32, vmlinux: i32, mods: usize, nMods: u32): bool {
  clearError();
  const o = getObj(h);
  const v = getBtf(vmlinux);
  if (o === null || v === null) return false;
  const t = new CoreTargets(v);
  for (let i: u32 = 0; i < nMods; i++) {
    const m = getBtf(<i32>load<u32>(mods + (<usize>i << 2)));
    if (m === null) return false;
    t.modules.push(m);
  }
  const run = new CoreRun();
  resolveCore(o, t, run);
  const s = newResult(4096 + <u32>o.count() * 160);
  s.u32le(<u32>o.sections.length);
  s.u32le(<u32>o.count());
  for (let i = 0; i < o.sections.length; i++) {
    const sec = o.sections[i];
    s.u32le(sec.elfIndex);
    s.u32le(sec.dataSize);
    s.u32le(sec.count);
    s.cstr(o.btf.str(sec.nameOff));
    s.byte(0);
    pad4(s);
  }
  for (let r = 0; r < run.records.length; r++) writeRecord(s, o, r, run.records[r], t);
  return true;
}

function pad4(s: ByteSink): void {
  while ((s.len & 3) != 0) s.byte(0);
}

function u64le(s: ByteSink, v: u64): void {
  s.u32le(<u32>v);
  s.u32le(<u32>(v >> 32));
}

function writeRecord(s: ByteSink, o: CoreObject, r: i32, x: RecordResult, t: CoreTargets): void {
  const lb = o.btf;
  const id = o.typeId[r];
  const valid = id < lb.typeCnt();
  s.u32le(o.recSec[r]);
  s.u32le(o.recIdx[r]);
  s.u32le(o.insnOff[r]);
  s.u32le(o.kind[r]);
  s.u32le(id);
  s.u32le(valid ? lb.kind(id) : 0xffffffff);
  s.u32le(x.status);
  s.u32le((x.validate ? 1 : 0) | (x.failMemsz ? 2 : 0) | (x.hasTarget ? 4 : 0));
  u64le(s, x.origVal);
  u64le(s, x.newVal);
  s.u32le(x.targSel);
  s.u32le(x.hasTarget ? x.targSpec.rootId : 0);
  s.u32le(x.hasTarget ? x.targSpec.bitOffset : 0);
  s.u32le(<u32>x.cands);
  s.u32le(<u32>x.matched);
  s.u32le(x.patch);
  s.u32le(x.insnLen);
  u64le(s, x.insn0);
  u64le(s, x.insn1);
  s.u32le(<u32>x.errno);
  s.u32le(x.reason);
  const n = x.hasTarget ? x.targSpec.rawLen : 0;
  s.u32le(<u32>n);
  s.u32le(o.recFileOff[r]);
  for (let i = 0; i < n; i++) s.u32le(<u32>x.targSpec.raw[i]);
  if (valid) s.cstr(lb.name(id));
  s.byte(0);
  s.cstr(lb.str(o.accessOff[r]));
  s.byte(0);
  // The local access in C terms, from a fresh parse (the resolver's scratch spec is reused).
  cPath(s, lb, o, r);
  s.byte(0);
  if (x.hasTarget) specC(s, x.targSpec);
  s.byte(0);
  pad4(s);
}

const cScratch = new Spec();

function cPath(s: ByteSink, lb: Btf, o: CoreObject, r: i32): void {
  const id = o.typeId[r];
  if (id >= lb.typeCnt()) return;
  if (parseSpecQuiet(lb, id, o, r)) specC(s, cScratch);
}

function parseSpecQuiet(lb: Btf, id: u32, o: CoreObject, r: i32): bool {
  return parseSpec(lb, id, lb.str(o.accessOff[r]), o.kind[r], cScratch) == 0;
}

/** bpf_core_format_spec's C view: `.a[3].b` for fields, `::NAME = value` for enum values. */
function specC(s: ByteSink, sp: Spec): void {
  const b = sp.btf!;
  if (isEnumvalBased(sp.kind)) {
    if (sp.len < 1) return;
    s.str("::");
    s.cstr(sp.accName[0]);
    s.str(" = ");
    const v = enumValue(b, sp.accType[0], sp.accIdx[0]);
    if (b.kflag(sp.accType[0])) s.i64dec(<i64>v);
    else s.u64dec(b.kind(sp.accType[0]) == KIND_ENUM ? v & 0xffffffff : v);
    return;
  }
  if (!isFieldBased(sp.kind)) return;
  for (let i = 0; i < sp.len; i++) {
    if (sp.accName[i] != 0) { s.byte(0x2e); s.cstr(sp.accName[i]); }
    else if (i > 0 || sp.accIdx[i] > 0) { s.byte(0x5b); s.u32dec(sp.accIdx[i]); s.byte(0x5d); }
  }
}

// ---- the golden TSV, written by the core (the CLI's --format tsv) ----------------------

const KIND_STRS: StaticArray<string> = ["byte_off", "byte_sz", "field_exists", "signed", "lshift_u64", "rshift_u64",
  "local_type_id", "target_type_id", "type_exists", "type_size", "enumval_exists", "enumval_value", "type_matches"];
/** libbpf's btf_kind_str, which is format.ts's KIND_NAMES in lower case (and "void" for kind 0). */
function localKindStr(s: ByteSink, kind: u32): void {
  if (kind == 0) { s.str("void"); return; }
  if (kind > KIND_MAX) { s.str("unknown"); return; }
  const name = unchecked(KIND_NAMES[kind]);
  for (let i = 0; i < name.length; i++) {
    const c = <u32>name.charCodeAt(i);
    s.byte(c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
  }
}
const REASON_STRS: StaticArray<string> = ["-", "field_offset_ambiguity", "decision_ambiguity", "cand_match_error",
  "bitfield_too_big", "bad_local_spec", "anon_type", "cand_search_failed", "array_access_kind", "unknown_kind",
  "unexpected_kind", "insn_value_mismatch", "insn_off_too_big", "insn_mem_size_mismatch", "insn_bad_new_mem_size",
  "insn_bad_ldimm64", "insn_unrecognized", "other"];
const TSV_HEADER = "#obj\tsec\trelo\tinsn_off\tkind\tlocal_id\tlocal_kind\tlocal_name\taccess\tstatus\torig_val\tnew_val\ttarg_btf\ttarg_id\ttarg_spec\ttarg_bit_off\tvalidate\tmemsz_fail\tcands\tmatched\tpatch\tinsn\terrno\treason\n";

/**
 * As coreResolve, but the result is the object's golden TSV (header line
 * included): `objName` is the object's file name (C string), `modNames`
 * the modules' names, NUL-terminated one after another, in `mods` order.
 */
export function coreResolveTsv(h: i32, vmlinux: i32, mods: usize, nMods: u32, objName: usize, modNames: usize): bool {
  clearError();
  const o = getObj(h);
  const v = getBtf(vmlinux);
  if (o === null || v === null) return false;
  const t = new CoreTargets(v);
  const names = new Array<usize>();
  let np = modNames;
  for (let i: u32 = 0; i < nMods; i++) {
    const m = getBtf(<i32>load<u32>(mods + (<usize>i << 2)));
    if (m === null) return false;
    t.modules.push(m);
    names.push(np);
    while (load<u8>(np) != 0) np++;
    np++;
  }
  const run = new CoreRun();
  resolveCore(o, t, run);
  const s = newResult(1024 + <u32>o.count() * 200);
  s.str(TSV_HEADER);
  const lb = o.btf;
  for (let r = 0; r < run.records.length; r++) {
    const x = run.records[r];
    const kind = o.kind[r];
    const id = o.typeId[r];
    const valid = id < lb.typeCnt();
    const isErr = x.status == 2;
    s.cstr(objName); tab(s);
    s.cstr(lb.str(o.sections[<i32>o.recSec[r]].nameOff)); tab(s);
    s.u32dec(o.recIdx[r]); tab(s);
    s.u32dec(o.insnOff[r]); tab(s);
    s.str(kind < 13 ? KIND_STRS[kind] : "unknown"); tab(s);
    s.u32dec(id); tab(s);
    if (valid) {
      const lk = lb.kind(id);
      localKindStr(s, lk); tab(s);
      const nm = lb.name(id);
      if (load<u8>(nm) == 0) s.str("<anon>"); else s.cstr(nm);
      tab(s);
    } else { s.str("-\t-\t"); }
    s.cstr(lb.str(o.accessOff[r])); tab(s);
    s.str(isErr ? "error" : x.status == 1 ? "poison" : "ok"); tab(s);
    if (isErr) s.str("-\t-\t");
    else { s.u64dec(x.origVal); tab(s); s.u64dec(x.newVal); tab(s); }
    if (x.hasTarget) {
      if (x.targSel == 0) s.str("vmlinux"); else s.cstr(names[<i32>x.targSel - 1]);
      tab(s);
      s.u32dec(x.targSpec.rootId); tab(s);
      if (isFieldBased(kind) || isEnumvalBased(kind)) {
        for (let i = 0; i < x.targSpec.rawLen; i++) { if (i > 0) s.byte(0x3a); s.i32dec(x.targSpec.raw[i]); }
      } else s.byte(0x2d);
      tab(s);
      if (isFieldBased(kind)) s.u32dec(x.targSpec.bitOffset); else s.byte(0x2d);
      tab(s);
    } else s.str("-\t-\t-\t-\t");
    if (isErr) s.str("-\t-\t");
    else { s.byte(x.validate ? 0x31 : 0x30); tab(s); s.byte(x.failMemsz ? 0x31 : 0x30); tab(s); }
    if (x.cands < 0) s.byte(0x2d); else s.u32dec(<u32>x.cands);
    tab(s);
    if (isErr || x.matched < 0) s.byte(0x2d); else s.u32dec(<u32>x.matched);
    tab(s);
    s.str(x.patch == 1 ? "ok" : x.patch == 2 ? "poison" : x.patch == 3 ? "error" : "-"); tab(s);
    if (x.patch == 1 || x.patch == 2) {
      hexLe(s, x.insn0);
      if (x.insnLen == 16) hexLe(s, x.insn1);
    } else s.byte(0x2d);
    tab(s);
    if (x.errno != 0) s.u32dec(<u32>x.errno); else s.byte(0x2d);
    tab(s);
    s.str(REASON_STRS[x.reason]);
    s.byte(0x0a);
  }
  return true;
}

@inline function tab(s: ByteSink): void { s.byte(0x09); }

function hexLe(s: ByteSink, v: u64): void {
  for (let i = 0; i < 8; i++) {
    const b = <u32>((v >> (<u64>i * 8)) & 0xff);
    const hi = b >> 4, lo = b & 15;
    s.byte(hi < 10 ? 48 + hi : 87 + hi);
    s.byte(lo < 10 ? 48 + lo : 87 + lo);
  }
}
