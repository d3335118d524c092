// Relocate (libbpf btf__relocate / btf_relocate, src/btf_relocate.c): move a
// split BTF from its distilled base D onto a new base B. Each distilled type
// is matched by name (and size, kind, INT encoding, embeddedness) to exactly
// one B type; split ids shift by nB - nD; split string offsets shift by the
// difference of the string sections; distilled names become B's names.
//
// Same accept/reject decisions as libbpf (quirks of src/btf_relocate.c
// btf_relocate_map_distilled_base included),
// computed differently: libbpf walks every B type and binary-searches D's
// sorted names; we look each D type's name up in a name index of B that is
// built once and cached on B (the check verb relocates hundreds of modules
// onto one kernel). The two are equivalent because a D type's outcome only
// depends on the B candidates with its name, visited in ascending B id order
// (its own mapped/embedded state is the only state involved).
//
// Where libbpf stops at the first failure, we record every failing distilled
// type with a reason (missing, size, ambiguous, encoding, kind), the sizes or
// encodings involved, the candidate B ids and, for embedded structs, the
// embedding path through the split.

import { Btf, BtfIndex } from "./btf";
import { IdMap } from "./idmap";
import { U32Map } from "./u32map";
import { ByteSink } from "./sink";
import { Err, fail } from "./errors";
import { cstrHash, cstreq, cstrToString, nextPow2 } from "./bytes";
import { strFieldAddr, strFieldCount, typeIdFieldAddr, typeIdFieldCount } from "./fields";
import {
  COMMON_LEN, KIND_ARRAY, KIND_CONST, KIND_ENUM, KIND_ENUM64, KIND_FLOAT, KIND_FWD, KIND_INT,
  KIND_MAX, KIND_RESTRICT, KIND_STRUCT, KIND_TYPEDEF, KIND_TYPE_TAG, KIND_UNION, KIND_VOLATILE,
  MEMBER_LEN, T_INFO, T_NAME, T_SIZE, infoKflag, infoKind, infoVlen, intEncoding, kindName,
} from "./format";

// Problem reasons (the host decodes them by number).
export const REASON_MISSING: u32 = 1;
export const REASON_SIZE: u32 = 2;
export const REASON_AMBIGUOUS: u32 = 3;
export const REASON_ENCODING: u32 = 4;
export const REASON_KIND: u32 = 5;

/**
 * One problem = PROBLEM_WORDS u32: distilled id, kind | kflag << 8, name
 * offset (in the split's chain), reason, expected, found, first candidate
 * index in the candidate pool, candidate count, path byte offset, path length.
 * expected/found: sizes for size, encodings for encoding, kind | kflag << 8
 * for kind, the distilled size and 0 for ambiguous.
 */
export const PROBLEM_WORDS: u32 = 10;

// relocate() flags.
export const RELOC_BUILD: u32 = 1; // build the relocated BTF (else only check)
export const RELOC_COMPAT_15: u32 = 2; // libbpf 1.5's embedded-marking loop bound

const INDEX_TAG: i32 = 0x52454c31; // "REL1"
const NEEDS_SIZE: u8 = 1;
/** Longest typedef/modifier/array chain followed when marking embedded types (chains are loop-free after parse). */
const MAX_CHAIN: u32 = 1 << 20;

@inline function isComposite(k: u32): bool { return k == KIND_STRUCT || k == KIND_UNION; }

/** B kinds that take part in matching (btf_relocate_map_distilled_base). */
@inline function matchKind(k: u32): bool {
  return k == KIND_INT || k == KIND_FLOAT || k == KIND_ENUM || k == KIND_ENUM64 ||
    k == KIND_FWD || k == KIND_STRUCT || k == KIND_UNION;
}

/**
 * Name index of a new base: for each name, the B types of matching kinds
 * that carry it, in ascending id order, with libbpf's needs_size flag per
 * entry. Built once per base and cached on it.
 */
class RelocBaseIndex extends BtfIndex {
  /** Hash slots: entry index + 1 of a name group's head, 0 when free. */
  slots: usize = 0;
  mask: u32 = 0;
  /** Per entry: B id, name hash, next entry index + 1 in the same name group (0 ends), flags. */
  entIds: usize = 0;
  entHash: usize = 0;
  entNext: usize = 0;
  entFlags: usize = 0;
  count: u32 = 0;
  /** A B type libbpf would match to D's void entry (named, but its name is empty): it refuses to relocate. */
  trapId: u32 = 0;

  constructor(public base: Btf) { super(INDEX_TAG); }

  /** First entry (index + 1) of the group named like the string at `p`, or 0. */
  lookup(p: usize): u32 {
    const mask = this.mask;
    const h = cstrHash(p);
    let i = h & mask;
    while (true) {
      const e = load<u32>(this.slots + (<usize>i << 2));
      if (e == 0) return 0;
      if (load<u32>(this.entHash + (<usize>(e - 1) << 2)) == h &&
          cstreq(this.base.name(load<u32>(this.entIds + (<usize>(e - 1) << 2))), p)) return e;
      i = (i + 1) & mask;
    }
  }

  dispose(): void {
    if (this.slots != 0) heap.free(this.slots);
    if (this.entIds != 0) heap.free(this.entIds);
    if (this.entHash != 0) heap.free(this.entHash);
    if (this.entNext != 0) heap.free(this.entNext);
    if (this.entFlags != 0) heap.free(this.entFlags);
    this.slots = this.entIds = this.entHash = this.entNext = this.entFlags = 0;
  }
}

function buildIndex(b: Btf): RelocBaseIndex {
  // Single-level base (relocate checks): own records only, read in place.
  const ix = new RelocBaseIndex(b);
  const n = b.count;
  const types = b.types, index = b.index, wide = b.wide;
  // Pass 1: the named types of matching kinds, and libbpf's base_name_cnt
  // (named STRUCT/UNION per name *offset*).
  // Per relevant type: own index, name offset, kind (pass 2 then reads no record).
  const ids = heap.alloc((<usize>n << 2) + 4);
  const names = heap.alloc((<usize>n << 2) + 4);
  const kinds = heap.alloc(<usize>n + 1);
  const compositesPerName = new U32Map(n / 8 + 16);
  let relevant: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const p = types + <usize>load<u32>(index + (<usize>i << 2));
    const nameOff = load<u32>(p, T_NAME);
    if (nameOff == 0) continue;
    const k = infoKind(load<u32>(p, T_INFO), wide);
    if (!matchKind(k)) continue;
    store<u32>(ids + (<usize>relevant << 2), i);
    store<u32>(names + (<usize>relevant << 2), nameOff);
    store<u8>(kinds + relevant, <u8>k);
    relevant++;
    if (isComposite(k)) compositesPerName.add(nameOff, 1);
  }
  const cap = nextPow2(max<u32>(16, relevant * 2));
  const mask = cap - 1;
  ix.mask = mask;
  ix.slots = heap.alloc(<usize>cap << 2);
  memory.fill(ix.slots, 0, <usize>cap << 2);
  ix.entIds = heap.alloc((<usize>relevant << 2) + 4);
  ix.entHash = heap.alloc((<usize>relevant << 2) + 4);
  ix.entNext = heap.alloc((<usize>relevant << 2) + 4);
  ix.entFlags = heap.alloc(<usize>relevant + 1);
  const strs = b.strs;
  // Pass 2, descending ids, each prepended to its name group: groups end up ascending.
  let e: u32 = 0;
  for (let j = relevant; j > 0; j--) {
    const i = load<u32>(ids + (<usize>(j - 1) << 2));
    const id = b.startId + i;
    const nameOff = load<u32>(names + (<usize>(j - 1) << 2));
    const k = <u32>load<u8>(kinds + (j - 1));
    const needsSize = isComposite(k) ? compositesPerName.get(nameOff, 0) > 1 : k != KIND_FWD;
    const name = strs + <usize>nameOff;
    if (load<u8>(name) == 0) {
      // Equal to D's entry for void (name "", size 0): libbpf fails with
      // "maps to invalid distilled base BTF id". Keep the lowest such id.
      const p = types + <usize>load<u32>(index + (<usize>i << 2));
      if (!needsSize || (load<u32>(p, T_SIZE) & 0x7fffffff) == 0) ix.trapId = id;
      continue;
    }
    const hash = cstrHash(name);
    store<u32>(ix.entIds + (<usize>e << 2), id);
    store<u32>(ix.entHash + (<usize>e << 2), hash);
    store<u8>(ix.entFlags + e, needsSize ? NEEDS_SIZE : 0);
    let h = hash & mask;
    while (true) {
      const a = ix.slots + (<usize>h << 2);
      const head = load<u32>(a);
      if (head == 0) {
        store<u32>(ix.entNext + (<usize>e << 2), 0);
        store<u32>(a, e + 1);
        break;
      }
      const hi = <usize>(head - 1) << 2;
      if (load<u32>(ix.entHash + hi) == hash && cstreq(b.name(load<u32>(ix.entIds + hi)), name)) {
        store<u32>(ix.entNext + (<usize>e << 2), head);
        store<u32>(a, e + 1);
        break;
      }
      h = (h + 1) & mask;
    }
    e++;
  }
  ix.count = e;
  heap.free(ids);
  heap.free(names);
  heap.free(kinds);
  compositesPerName.dispose();
  return ix;
}

/** The name index of `b`, built on first use. */
function baseIndex(b: Btf): RelocBaseIndex {
  const found = b.findIndex(INDEX_TAG);
  if (found !== null) return changetype<RelocBaseIndex>(found);
  const ix = buildIndex(b);
  b.addIndex(ix);
  return ix;
}

export class RelocResult {
  /** The relocated split on the new base (null when only checking or on problems). */
  btf: Btf | null = null;
  /** Old id (distilled base ids and split ids) -> id after relocation. */
  idMap: IdMap;
  problems: ByteSink = new ByteSink(64);
  nProblems: u32 = 0;
  /** Candidate B ids referenced by problems. */
  cands: ByteSink = new ByteSink(64);
  /** Embedding paths (UTF-8) referenced by problems. */
  paths: ByteSink = new ByteSink(64);

  constructor(n: u32) { this.idMap = new IdMap(n); }

  dispose(): void {
    if (this.btf !== null) { this.btf!.release(); this.btf = null; }
    this.idMap.dispose();
    this.problems.dispose();
    this.cands.dispose();
    this.paths.dispose();
  }
}

/** State of one relocation, shared by the phases below. */
class Reloc {
  split: Btf;
  dist: Btf;
  base: Btf;
  nD: u32;
  n: u32;
  /** u8 per D id: embedded in a split struct/union member. */
  embedded: usize = 0;
  /**
   * u32 per old id, built only when a path is printed: the first split
   * composite (and member index) whose member embeds this composite.
   */
  embedder: usize = 0;
  embedderMember: usize = 0;
  /** u32 per split id: the end of its modifier/typedef/array chain + 1, 0 while unknown. */
  memo: usize = 0;
  compat15: bool;

  constructor(split: Btf, base: Btf, compat15: bool) {
    this.split = split;
    this.dist = split.base!;
    this.base = base;
    this.nD = this.dist.typeCnt();
    this.n = split.typeCnt();
    this.compat15 = compat15;
  }

  dispose(): void {
    if (this.embedded != 0) heap.free(this.embedded);
    if (this.embedder != 0) heap.free(this.embedder);
    if (this.embedderMember != 0) heap.free(this.embedderMember);
    if (this.memo != 0) heap.free(this.memo);
  }

  /** Split ids whose members libbpf scans: 1.5 ran the loop to nr_split_types instead of nD + nr_split_types. */
  @inline scanEnd(): u32 { return this.compat15 ? min<u32>(this.split.count, this.n) : this.n; }

  /** Record address of any old id >= 1 (split or distilled base), read in place. */
  @inline recAddr(t: u32): usize {
    const nD = this.nD;
    return t >= nD
      ? this.split.types + <usize>load<u32>(this.split.index + (<usize>(t - nD) << 2))
      : this.dist.types + <usize>load<u32>(this.dist.index + (<usize>(t - 1) << 2));
  }

  /**
   * Where a member's type leads through modifiers, typedefs, type tags and
   * arrays (the walk of btf_mark_embedded_composite_type_ids): the first
   * other type, or 0. Every split id on the walk is memoised (chain end + 1
   * in `memo`), so all walks together visit each split type once: members
   * share their types a lot, and a long chain cannot be walked per member.
   */
  chainEnd(t0: u32): u32 {
    const nD = this.nD;
    const memo = this.memo;
    const sWide = this.split.wide, dWide = this.dist.wide;
    // First pass: find the end (or a memoised node).
    let t = t0;
    let end: u32 = 0;
    for (let guard: u32 = 0; guard < MAX_CHAIN; guard++) {
      if (t == 0) { end = 0; break; }
      if (t >= nD) {
        const known = load<u32>(memo + (<usize>(t - nD) << 2));
        if (known != 0) { end = known - 1; break; }
      }
      const tp = this.recAddr(t);
      const tk = infoKind(load<u32>(tp, T_INFO), t >= nD ? sWide : dWide);
      if (tk == KIND_CONST || tk == KIND_VOLATILE || tk == KIND_RESTRICT || tk == KIND_TYPEDEF || tk == KIND_TYPE_TAG) t = load<u32>(tp, T_SIZE);
      else if (tk == KIND_ARRAY) t = load<u32>(tp, COMMON_LEN);
      else { end = t; break; }
    }
    // Second pass: memoise every split id up to where the first one stopped.
    t = t0;
    for (let guard: u32 = 0; guard < MAX_CHAIN && t >= nD; guard++) {
      const a = memo + (<usize>(t - nD) << 2);
      if (load<u32>(a) != 0) break;
      store<u32>(a, end + 1);
      const tp = this.recAddr(t);
      const tk = infoKind(load<u32>(tp, T_INFO), sWide);
      if (tk == KIND_CONST || tk == KIND_VOLATILE || tk == KIND_RESTRICT || tk == KIND_TYPEDEF || tk == KIND_TYPE_TAG) t = load<u32>(tp, T_SIZE);
      else if (tk == KIND_ARRAY) t = load<u32>(tp, COMMON_LEN);
      else break;
    }
    return end;
  }

  /**
   * btf_mark_embedded_composite_type_ids over split composites: a distilled
   * struct/union at the end of a member's chain is embedded.
   */
  markEmbedded(): void {
    const nD = this.nD;
    const split = this.split;
    const dist = this.dist;
    this.embedded = heap.alloc(<usize>nD + 1);
    memory.fill(this.embedded, 0, <usize>nD + 1);
    const memoLen = (<usize>split.count << 2) + 4;
    this.memo = heap.alloc(memoLen);
    memory.fill(this.memo, 0, memoLen);
    const sTypes = split.types, sIndex = split.index, sWide = split.wide, dWide = dist.wide;
    const end = this.scanEnd();
    for (let id = nD; id < end; id++) {
      const p = sTypes + <usize>load<u32>(sIndex + (<usize>(id - nD) << 2));
      const info = load<u32>(p, T_INFO);
      if (!isComposite(infoKind(info, sWide))) continue;
      const vlen = infoVlen(info, sWide);
      for (let m: u32 = 0; m < vlen; m++) {
        const t = load<u32>(p + COMMON_LEN + <usize>m * MEMBER_LEN, 4);
        const e = t < nD ? t : this.chainEnd(t);
        if (e != 0 && e < nD && isComposite(infoKind(load<u32>(this.recAddr(e), T_INFO), dWide))) store<u8>(this.embedded + e, 1);
      }
    }
  }

  /** The first embedder of every composite (split ones too), for paths; built on first use. */
  private buildEmbedders(): void {
    const nD = this.nD;
    const n = this.n;
    const split = this.split;
    this.embedder = heap.alloc((<usize>n << 2) + 4);
    memory.fill(this.embedder, 0, (<usize>n << 2) + 4);
    this.embedderMember = heap.alloc((<usize>n << 2) + 4);
    const end = this.scanEnd();
    for (let id = nD; id < end; id++) {
      const p = split.ownRec(id);
      if (!isComposite(split.recKind(p))) continue;
      const vlen = split.recVlen(p);
      for (let m: u32 = 0; m < vlen; m++) {
        const t0 = load<u32>(p + COMMON_LEN + <usize>m * MEMBER_LEN, 4);
        const t = t0 < nD ? t0 : this.chainEnd(t0);
        if (t == 0 || !isComposite(split.kind(t))) continue;
        const a = this.embedder + (<usize>t << 2);
        if (load<u32>(a) == 0) {
          store<u32>(a, id);
          store<u32>(this.embedderMember + (<usize>t << 2), m);
        }
      }
    }
  }

  /** Append "struct NAME.member -> typedef x -> ... -> struct TARGET" for a distilled type. */
  renderPath(d: u32, out: ByteSink): void {
    const split = this.split;
    if (this.embedder == 0) this.buildEmbedders();
    // Climb from d through anonymous embedders to a named one (bounded, no cycles).
    const chain = new StaticArray<u32>(32);
    let depth = 0;
    let cur = d;
    while (depth < 16) {
      const s = load<u32>(this.embedder + (<usize>cur << 2));
      if (s == 0) break;
      let seen = false;
      for (let j = 0; j < depth; j++) if (chain[j * 2] == s) seen = true;
      if (seen) break;
      chain[depth * 2] = s;
      chain[depth * 2 + 1] = load<u32>(this.embedderMember + (<usize>cur << 2));
      depth++;
      if (split.nameOff(s) != 0) break;
      cur = s;
    }
    for (let j = depth - 1; j >= 0; j--) {
      const s = chain[j * 2];
      const m = chain[j * 2 + 1];
      const target = j > 0 ? chain[(j - 1) * 2] : d;
      out.str(split.kind(s) == KIND_UNION ? "union " : "struct ");
      this.nameOrAnon(split.nameOff(s), out);
      out.byte(0x2e); // '.'
      const mp = split.extra(s) + <usize>m * MEMBER_LEN;
      this.nameOrAnon(load<u32>(mp), out);
      let t = load<u32>(mp, 4);
      for (let steps = 0; t != target && t != 0; steps++) {
        if (steps == 16) { out.str(" -> ..."); break; } // a long chain is shortened
        const tk = split.kind(t);
        out.str(" -> ");
        if (tk == KIND_ARRAY) {
          out.str("array[");
          out.u32dec(load<u32>(split.extra(t), 8));
          out.byte(0x5d);
          t = load<u32>(split.extra(t));
        } else if (tk == KIND_TYPEDEF || tk == KIND_TYPE_TAG) {
          out.str(tk == KIND_TYPEDEF ? "typedef " : "type_tag ");
          this.nameOrAnon(split.nameOff(t), out);
          t = split.sizeOrType(t);
        } else if (tk == KIND_CONST || tk == KIND_VOLATILE || tk == KIND_RESTRICT) {
          out.str(tk == KIND_CONST ? "const" : tk == KIND_VOLATILE ? "volatile" : "restrict");
          t = split.sizeOrType(t);
        } else {
          break;
        }
      }
      out.str(" -> ");
    }
    out.str(this.dist.kind(d) == KIND_UNION ? "union " : "struct ");
    this.nameOrAnon(this.dist.nameOff(d), out);
  }

  private nameOrAnon(off: u32, out: ByteSink): void {
    if (off == 0 || load<u8>(this.split.str(off)) == 0) out.str("(anon)");
    else out.cstr(this.split.str(off));
  }
}

@inline function kindWord(p: usize, wide: bool): u32 {
  const info = load<u32>(p, T_INFO);
  return infoKind(info, wide) | (infoKflag(info) ? <u32>0x100 : 0);
}

/**
 * Relocate `split` (on its distilled base) onto `base`. Returns null on an
 * error that is not about individual types (bad arguments, a base that is
 * not distilled, ...). Otherwise a result whose `nProblems` says whether it
 * worked; with problems the error RELOCATE_FAILED is recorded too.
 */
export function relocate(split: Btf, base: Btf, flags: u32): RelocResult | null {
  if (split.base === null) {
    fail(Err.NO_BASE, -1, 0, "relocate needs split BTF on a distilled base");
    return null;
  }
  const dist = split.base!;
  if (dist === base) {
    fail(Err.USAGE, -1, 0, "the new base is the split's current base");
    return null;
  }
  if (dist.base !== null || base.base !== null) {
    fail(Err.USAGE, -1, 0, "relocate works between single-level bases (the distilled base and the new base must not be split BTF)");
    return null;
  }
  const nD = dist.typeCnt();
  const nB = base.typeCnt();
  const n = split.typeCnt();
  // btf_relocate_validate_distilled_base.
  for (let id: u32 = 1; id < nD; id++) {
    const p = dist.ownRec(id);
    const k = dist.recKind(p);
    if (k == KIND_INT || k == KIND_FLOAT || k == KIND_ENUM || k == KIND_STRUCT || k == KIND_UNION || k == KIND_FWD) {
      if (load<u32>(p, T_NAME) != 0) continue;
      fail(Err.BAD_DISTILLED_BASE, -1, id, "type [" + id.toString() + "] " + kindName(k) + " in the distilled base is anonymous (libbpf: kind [" + k.toString() + "] is invalid for distilled base BTF)");
      return null;
    }
    fail(Err.BAD_DISTILLED_BASE, -1, id, "type [" + id.toString() + "] in the distilled base has kind " + kindName(k) + ", which a distilled base cannot hold: is the base a full BTF rather than a .BTF.base?");
    return null;
  }
  for (let id = nD; id < n; id++) {
    const k = split.recKind(split.ownRec(id));
    if (k == 0 || k > KIND_MAX) {
      fail(Err.UNSUPPORTED, -1, id, "type [" + id.toString() + "] has kind " + k.toString() + ", which relocation cannot walk");
      return null;
    }
  }
  if (<u64>nB + <u64>(n - nD) > 0xffffffff) {
    fail(Err.TOO_MANY_TYPES, -1, 0, "too many types after relocation");
    return null;
  }
  const ix = baseIndex(base);
  if (ix.trapId != 0) {
    fail(Err.RELOCATE_FAILED, -1, ix.trapId, "new base type [" + ix.trapId.toString() + "] has an empty name at a non-zero name offset; libbpf refuses to relocate onto it (maps to invalid distilled base BTF id [0])");
    return null;
  }

  const res = new RelocResult(n);
  const idMap = res.idMap;
  for (let id = nD; id < n; id++) idMap.set(id, id + nB - nD);

  const r = new Reloc(split, base, (flags & RELOC_COMPAT_15) != 0);
  r.markEmbedded();

  // For each D name offset, the highest B id mapped to it: libbpf's str_map
  // ends up holding that one's name offset (last write in B id order).
  const nameTarget = new U32Map(nD);
  let firstProblem: u32 = 0;
  for (let d: u32 = 1; d < nD; d++) {
    const dp = dist.ownRec(d);
    const dkw = kindWord(dp, dist.wide);
    const dk = dkw & 0xff;
    const dkflag = (dkw & 0x100) != 0;
    const dsize = load<u32>(dp, T_SIZE);
    const dNameOff = load<u32>(dp, T_NAME);
    const embedded = load<u8>(r.embedded + d) != 0;
    let e = ix.lookup(dist.str(dNameOff));
    const anyCandidate = e != 0;
    let mapped: u32 = 0;
    let accepted: u32 = 0;
    const candStart = res.cands.len >> 2;
    // First rejected candidate by reason (kind, size, encoding).
    let kindRej: u32 = 0, sizeRej: u32 = 0, sizeRejSameKind: u32 = 0, encRej: u32 = 0;
    while (e != 0) {
      const ei = e - 1;
      e = load<u32>(ix.entNext + (<usize>ei << 2));
      const b = load<u32>(ix.entIds + (<usize>ei << 2));
      const bp = base.rec(b);
      const bkw = kindWord(bp, base.wide);
      const bk = bkw & 0xff;
      const bkflag = (bkw & 0x100) != 0;
      const bsize = load<u32>(bp, T_SIZE);
      // Kind compatibility (the switch on the distilled kind).
      let kindOk = false;
      switch (dk) {
        case KIND_FWD:
          kindOk = (bk == KIND_FWD && bkflag == dkflag) ||
            (bk == KIND_STRUCT && !bkflag) || (bk == KIND_UNION && bkflag); // sic: the base's kflag
          break;
        case KIND_INT: kindOk = bk == KIND_INT; break;
        case KIND_FLOAT: kindOk = bk == KIND_FLOAT; break;
        case KIND_ENUM: kindOk = bk == KIND_ENUM || bk == KIND_ENUM64; break;
        case KIND_STRUCT: case KIND_UNION: kindOk = true; break; // no kind check (quirk)
        default: kindOk = false;
      }
      if (!kindOk) { if (kindRej == 0) kindRej = b; continue; }
      // Size: part of the search key when needs_size (31-bit field in libbpf),
      // and for embedded composites until they are mapped.
      const needsSize = (load<u8>(ix.entFlags + ei) & NEEDS_SIZE) != 0;
      if ((needsSize && (bsize & 0x7fffffff) != (dsize & 0x7fffffff)) ||
          (isComposite(dk) && embedded && mapped == 0 && bsize != dsize)) {
        if (sizeRej == 0) sizeRej = b;
        if (sizeRejSameKind == 0 && bk == dk) sizeRejSameKind = b;
        continue;
      }
      if (dk == KIND_INT && intEncoding(load<u32>(bp, COMMON_LEN)) != intEncoding(load<u32>(dp, COMMON_LEN))) {
        if (encRej == 0) encRej = b;
        continue;
      }
      accepted++;
      if (mapped == 0) mapped = b;
      else {
        if (accepted == 2) res.cands.u32le(mapped);
        res.cands.u32le(b);
      }
    }
    if (accepted == 1) {
      idMap.set(d, mapped);
      if (nameTarget.get(dNameOff, 0) < mapped) nameTarget.set(dNameOff, mapped);
      continue;
    }
    // A problem: attribute its reason.
    let reason: u32, expected: u32 = 0, found: u32 = 0;
    let path = false;
    if (accepted >= 2) {
      reason = REASON_AMBIGUOUS;
      expected = dsize;
    } else if (!anyCandidate) {
      reason = REASON_MISSING;
    } else if (encRej != 0) {
      reason = REASON_ENCODING;
      expected = intEncoding(load<u32>(dp, COMMON_LEN));
      found = intEncoding(load<u32>(base.rec(encRej), COMMON_LEN));
      collectCandidates(res, ix, dist.str(dNameOff), base, dk, dsize, 2);
    } else if (sizeRej != 0) {
      reason = REASON_SIZE;
      expected = dsize;
      found = base.sizeOrType(sizeRejSameKind != 0 ? sizeRejSameKind : sizeRej);
      path = isComposite(dk) && embedded;
      collectCandidates(res, ix, dist.str(dNameOff), base, dk, dsize, 1);
    } else {
      reason = REASON_KIND;
      expected = dkw;
      found = kindWord(base.rec(kindRej), base.wide);
      collectCandidates(res, ix, dist.str(dNameOff), base, dk, dsize, 0);
    }
    if (firstProblem == 0) firstProblem = d;
    const pathStart = res.paths.len;
    if (path) r.renderPath(d, res.paths);
    const s = res.problems;
    s.u32le(d);
    s.u32le(dkw);
    s.u32le(dNameOff);
    s.u32le(reason);
    s.u32le(expected);
    s.u32le(found);
    s.u32le(candStart);
    s.u32le((res.cands.len >> 2) - candStart);
    s.u32le(pathStart);
    s.u32le(res.paths.len - pathStart);
    res.nProblems++;
  }
  r.dispose();

  if (res.nProblems > 0) {
    nameTarget.dispose();
    const nm = dist.nameOff(firstProblem);
    fail(Err.RELOCATE_FAILED, -1, firstProblem, res.nProblems.toString() + " distilled base type" + (res.nProblems == 1 ? "" : "s") +
      " cannot be relocated, the first: " + kindName(dist.kind(firstProblem)) + " '" + cstrToString(dist.str(nm)) + "' [" + firstProblem.toString() + "]");
    return res;
  }

  // String offsets: D names -> the mapped B names; the split's own shift.
  const strMap = new U32Map(nameTarget.size + 1);
  for (let d: u32 = 1; d < nD; d++) {
    const off = dist.nameOff(d);
    const b = nameTarget.get(off, 0);
    if (b != 0) strMap.set(off, base.nameOff(b));
  }
  nameTarget.dispose();
  const distStrLen = dist.strLen;
  const strShift = base.strEnd() - distStrLen;
  // With an output, strings are checked while it is rewritten; else on their own.
  let ok = true;
  if ((flags & RELOC_BUILD) != 0) {
    res.btf = buildRelocated(split, base, idMap, strMap, distStrLen, strShift);
    ok = res.btf !== null;
  } else {
    ok = uncoveredString(split, strMap, distStrLen) == 0;
  }
  strMap.dispose();
  if (!ok) { res.dispose(); return null; }
  return res;
}

/**
 * libbpf fails (-ENOENT) when the split uses a distilled base string that is
 * no mapped type name: it cannot be placed in the new base. Records the error
 * and returns the type id, or 0 when every such string is covered.
 */
function uncoveredString(split: Btf, strMap: U32Map, distStrLen: u32): u32 {
  const n = split.typeCnt();
  for (let id = split.startId; id < n; id++) {
    const p = split.ownRec(id);
    const k = split.recKind(p);
    const ns = strFieldCount(k, split.recVlen(p));
    for (let i: u32 = 0; i < ns; i++) {
      const off = load<u32>(strFieldAddr(p, k, i));
      if (off != 0 && off < distStrLen && strMap.get(off, 0) == 0) {
        failUncovered(split, id, off);
        return id;
      }
    }
  }
  return 0;
}

function failUncovered(split: Btf, id: u32, off: u32): void {
  fail(Err.RELOCATE_FAILED, -1, id, "type [" + id.toString() + "] uses the distilled base string '" + cstrToString(split.base!.str(off)) +
    "' [offset " + off.toString() + "], which is no distilled type's name (libbpf: not mapped to base BTF)");
}

/**
 * Candidate B ids of a failed distilled type, for the report: mode 0 every
 * same-named candidate, 1 those of a compatible kind (size problems), 2 INTs
 * of the same size (encoding problems).
 */
function collectCandidates(res: RelocResult, ix: RelocBaseIndex, name: usize, base: Btf, dk: u32, dsize: u32, mode: i32): void {
  let e = ix.lookup(name);
  while (e != 0) {
    const ei = e - 1;
    e = load<u32>(ix.entNext + (<usize>ei << 2));
    const b = load<u32>(ix.entIds + (<usize>ei << 2));
    const bk = base.kind(b);
    if (mode == 1 && !(bk == dk || (dk == KIND_ENUM && bk == KIND_ENUM64) || (isComposite(dk) && isComposite(bk)))) continue;
    if (mode == 2 && (bk != KIND_INT || base.sizeOrType(b) != dsize)) continue;
    res.cands.u32le(b);
  }
}

/**
 * The split's blob with ids and string offsets rewritten, as a split on
 * `base` (libbpf rewrites in place). Null (error recorded) when a string
 * cannot be mapped.
 */
function buildRelocated(split: Btf, base: Btf, idMap: IdMap, strMap: U32Map, distStrLen: u32, strShift: u32): Btf | null {
  const mem = heap.alloc(split.size);
  memory.copy(mem, split.mem, split.size);
  const types = mem + (split.types - split.mem);
  const index = split.index;
  const wide = split.wide;
  const cnt = split.count;
  for (let i: u32 = 0; i < cnt; i++) {
    const p = types + <usize>load<u32>(index + (<usize>i << 2));
    const info = load<u32>(p, T_INFO);
    const k = infoKind(info, wide);
    const vlen = infoVlen(info, wide);
    idMap.applyToRecord(p, k, vlen);
    const ns = strFieldCount(k, vlen);
    for (let j: u32 = 0; j < ns; j++) {
      const a = strFieldAddr(p, k, j);
      const off = load<u32>(a);
      if (off == 0) continue;
      if (off >= distStrLen) { store<u32>(a, off + strShift); continue; }
      const to = strMap.get(off, 0);
      if (to == 0) {
        heap.free(mem);
        failUncovered(split, split.startId + i, off);
        return null;
      }
      store<u32>(a, to);
    }
  }
  const out = new Btf();
  out.mem = mem;
  out.size = split.size;
  out.owned = mem;
  out.hdrLen = split.hdrLen;
  out.version = split.version;
  out.flags = split.flags;
  out.typeOff = split.typeOff;
  out.typeLen = split.typeLen;
  out.strOff = split.strOff;
  out.strLen = split.strLen;
  out.layoutOff = split.layoutOff;
  out.layoutLen = split.layoutLen;
  out.bigEndian = split.bigEndian;
  out.wide = wide;
  out.types = types;
  out.strs = mem + (split.strs - split.mem);
  out.layout = split.layout == 0 ? 0 : mem + (split.layout - split.mem);
  out.count = cnt;
  out.index = heap.alloc((<usize>cnt << 2) + 4);
  memory.copy(out.index, index, <usize>cnt << 2);
  base.retain();
  out.base = base;
  out.startId = base.typeCnt();
  out.startStrOff = base.strEnd();
  return out;
}

/**
 * The id mapping as text, in the golden `.map` format: a header, one
 * `base DIST_ID NEW_ID KIND NAME` line per distilled type ('?' when the split
 * never references it) and one `split OLD NEW` line per split type.
 */
export function writeRelocMap(split: Btf, base: Btf, map: usize, mapLen: u32, out: ByteSink): bool {
  if (split.base === null) return fail(Err.NO_BASE, -1, 0, "the split BTF has no base");
  const dist = split.base!;
  const nD = dist.typeCnt();
  const n = split.typeCnt();
  if (mapLen < n) return fail(Err.USAGE, -1, 0, "id map has " + mapLen.toString() + " entries, " + n.toString() + " needed");
  const nB = base.typeCnt();
  // Which distilled types the split references.
  const referenced = heap.alloc(<usize>nD + 1);
  memory.fill(referenced, 0, <usize>nD + 1);
  for (let id = split.startId; id < n; id++) {
    const p = split.ownRec(id);
    const k = split.recKind(p);
    const cntF = typeIdFieldCount(k, split.recVlen(p));
    for (let i: u32 = 0; i < cntF; i++) {
      const t = load<u32>(typeIdFieldAddr(p, k, i));
      if (t < nD) store<u8>(referenced + t, 1);
    }
  }
  out.str("# btfo relocate map (derived by comparing type references)\n# dist_base_types ");
  out.u32dec(nD - 1);
  out.str(" new_base_types ");
  out.u32dec(nB - 1);
  out.str(" split_types ");
  out.u32dec(n - nD);
  out.str(" split_id_delta ");
  out.i64dec(<i64>nB - <i64>nD);
  out.str("\n# base DIST_ID NEW_BASE_ID KIND NAME   ('?' = not referenced from split)\n");
  for (let d: u32 = 1; d < nD; d++) {
    out.str("base ");
    out.u32dec(d);
    out.byte(0x20);
    if (load<u8>(referenced + d) != 0) out.u32dec(load<u32>(map + (<usize>d << 2)));
    else out.byte(0x3f);
    out.byte(0x20);
    out.str(kindName(dist.kind(d)));
    out.byte(0x20);
    out.cstr(dist.name(d));
    out.byte(0x0a);
  }
  heap.free(referenced);
  out.str("# split OLD_ID NEW_ID\n");
  for (let id = nD; id < n; id++) {
    out.str("split ");
    out.u32dec(id);
    out.byte(0x20);
    out.u32dec(load<u32>(map + (<usize>id << 2)));
    out.byte(0x0a);
  }
  return true;
}
