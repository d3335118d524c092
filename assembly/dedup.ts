// BTF deduplication with libbpf's btf__dedup output, byte for byte
// (libbpf src/btf.c btf__dedup, at the commit the goldens were made with).
//
// Phases, as btf__dedup: prep (split: pre-hash the base) -> strings ->
// primitive types -> struct/union/typedef graphs -> unambiguous FWDs ->
// reference types -> compaction -> id remapping. The input is never touched:
// its own type section is copied once and every phase works on that copy.
//
// Exactness hinges on the candidate order of libbpf's `hashmap` (identity
// hash, `hash_bits` multiplicative bucket, prepend on insert, rehash walking
// old buckets and prepending), so `CandTable` emulates it entry for entry.
// libbpf's recursive btf_dedup_is_equiv, btf_dedup_identical_types and
// btf_dedup_ref_type run here on explicit stacks in the same visiting order.
// Per-type state lives in one flat unmanaged array of 16-byte entries
// indexed by type id; hash tables are unmanaged too, with no per-type objects.

import { Btf } from "./btf";
import { Err, fail } from "./errors";
import {
  COMMON_LEN, HDR_LEN_CLASSIC, HDR_LEN_LAYOUT, T_INFO, T_NAME, T_SIZE,
  KIND_INT, KIND_PTR, KIND_ARRAY, KIND_STRUCT, KIND_UNION, KIND_ENUM, KIND_FWD,
  KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_FUNC, KIND_FUNC_PROTO,
  KIND_VAR, KIND_DATASEC, KIND_FLOAT, KIND_DECL_TAG, KIND_TYPE_TAG, KIND_ENUM64,
  MEMBER_LEN, ENUM_LEN, ENUM64_LEN, PARAM_LEN, infoKflag, kindName,
} from "./format";
import { strFieldAddr, strFieldCount, typeIdFieldAddr, typeIdFieldCount } from "./fields";
import { writeHeader } from "./parse";
import { StrSet } from "./strings";
import { U32Map } from "./u32map";
import { CandTable, StrMemo, UNPROCESSED, ld, st } from "./dedup_tables";
import {
  equalCommon, equalElems, equalIntTag, equalTypedef, equalWords, hashArray, hashCommon,
  hashEnum, hashFnProto, hashIntTag, hashStruct, hashTypedef,
} from "./dedup_hash";
import { U32Vec } from "./vec";

/** map[] states (libbpf BTF_UNPROCESSED_ID, dedup_tables.ts, and BTF_IN_PROGRESS_ID); ids <= MAX_ID are "mapped". */
const IN_PROGRESS: u32 = 0xfffffffe;
const MAX_ID: u32 = 0x7fffffff;

/** Depth libbpf gives btf_dedup_identical_types. */
const IDENTICAL_DEPTH: i32 = 16;
/**
 * Steps one btf_dedup_identical_types call may take. libbpf has no bound and
 * a crafted input can make that comparison exponential; real BTF stays far
 * below this, and past it we stop with a typed error instead of hanging.
 */
const IDENTICAL_BUDGET: u32 = 1 << 22;

// Internal results (negative: errors, as libbpf's -errno).
const R_INVAL: i32 = -22;
const R_LOOP: i32 = -40;
const R_TOO_COMPLEX: i32 = -7;

// ---- the dedup state ------------------------------------------------------

/**
 * Types per call of a phase loop. V8 runs a wasm function in its baseline
 * tier until a later call; chunking lets the phase loops reach the
 * optimising tier after their first chunks even on a cold instance.
 */
const CHUNK: u32 = 2048;

// Per-id entries (see Dedup.ids).
@inline function eRec(ids: usize, id: u32): usize { return <usize>load<u32>(ids + (<usize>id << 4)); }
@inline function eMap(ids: usize, id: u32): u32 { return load<u32>(ids + (<usize>id << 4), 4); }
@inline function eSetMap(ids: usize, id: u32, v: u32): void { store<u32>(ids + (<usize>id << 4), v, 4); }
@inline function eHyp(ids: usize, id: u32): u32 { return load<u32>(ids + (<usize>id << 4), 8); }
@inline function eSetHyp(ids: usize, id: u32, v: u32): void { store<u32>(ids + (<usize>id << 4), v, 8); }
@inline function eKind(ids: usize, id: u32): u32 { return <u32>load<u8>(ids + (<usize>id << 4), 15); }
@inline function eVlen(ids: usize, id: u32): u32 { return load<u32>(ids + (<usize>id << 4), 12) & 0xffffff; }

class Dedup {
  btf: Btf;
  /** One past the last id (base + own). */
  n: u32;
  startId: u32;
  /**
   * Per-id state, 16 bytes an id so that one cache line serves a lookup:
   * record address (own ids point into `work`, base ids into the base),
   * map (libbpf's d->map), hypot (d->hypot_map, later the new ids), and
   * kind << 24 | vlen, decoded once with each owner's info profile.
   */
  ids: usize;
  hypotList: U32Vec;
  adjustCanon: bool = false;
  table: CandTable;
  /**
   * Copy of the own type section, rewritten in place as libbpf does, then
   * compacted in place; its block (`workMem`, with room for a header in
   * front) becomes the output blob.
   */
  work: usize = 0;
  workMem: usize = 0;
  /** Work stack for the equivalence and identity walks and for ref types. */
  stack: U32Vec;
  strs: StrSet | null = null;
  /** Old own string offset -> new offset, during the string phase. */
  strMemo: StrMemo | null = null;
  /** Id of the first type a failed check was about, and the error. */
  errId: u32 = 0;
  errCode: i32 = 0;
  errOther: u32 = 0;

  constructor(btf: Btf) {
    this.btf = btf;
    const n = btf.typeCnt();
    this.n = n;
    this.startId = btf.startId;
    this.ids = heap.alloc((<usize>n << 4) + 16);
    this.hypotList = new U32Vec(256);
    this.stack = new U32Vec(1024);
    this.table = new CandTable(n);
  }

  dispose(): void {
    heap.free(this.ids);
    this.hypotList.free();
    this.stack.free();
    this.table.dispose();
    if (this.workMem != 0) heap.free(this.workMem);
    this.workMem = 0;
    this.work = 0;
    this.endStrings();
    if (this.strs !== null) this.strs!.dispose();
    this.strs = null;
  }

  @inline rec(id: u32): usize { return eRec(this.ids, id); }
  @inline kind(id: u32): u32 { return eKind(this.ids, id); }
  @inline vlen(id: u32): u32 { return eVlen(this.ids, id); }
  @inline mapOf(id: u32): u32 { return eMap(this.ids, id); }
  @inline setMap(id: u32, v: u32): void { eSetMap(this.ids, id, v); }
  @inline isMapped(id: u32): bool { return eMap(this.ids, id) <= MAX_ID; }

  /** libbpf resolve_type_id: follow map links to a self-mapped or unmapped id. */
  @inline resolve(id: u32): u32 {
    const ids = this.ids;
    while (true) {
      const m = eMap(ids, id);
      if (m > MAX_ID || m == id) return id;
      id = m;
    }
  }

  /** Copy the own types; VAR and DATASEC are their own canonical types. */
  setupBegin(): void {
    const btf = this.btf;
    const own = btf.typeLen;
    this.workMem = heap.alloc(<usize>HDR_LEN_LAYOUT + own + 4);
    this.work = this.workMem + HDR_LEN_LAYOUT;
    memory.copy(this.work, btf.types, own);
    const e = this.ids;
    store<u32>(e, <u32>btf.rec(0));
    store<u32>(e, 0, 4);
    store<u32>(e, UNPROCESSED, 8);
    store<u32>(e, 0, 12);
  }

  /** Index ids [from, to): record address, kind and vlen (decoded with each owner's info profile). */
  setup(from: u32, to: u32): void {
    const btf = this.btf;
    const start = this.startId;
    let owner: Btf = btf.owner(from);
    for (let id = from; id < to; id++) {
      let p: usize;
      if (id < start) {
        if (id >= owner.typeCnt()) owner = btf.owner(id);
        p = owner.ownRec(id);
      } else {
        owner = btf;
        p = this.work + <usize>ld(btf.index, id - start);
      }
      const k = owner.recKind(p);
      const e = this.ids + (<usize>id << 4);
      store<u32>(e, <u32>p);
      // VAR and DATASEC are never deduplicated: each is its own canonical type.
      store<u32>(e, k == KIND_VAR || k == KIND_DATASEC ? id : UNPROCESSED, 4);
      store<u32>(e, UNPROCESSED, 8);
      store<u32>(e, (k << 24) | (owner.recVlen(p) & 0xffffff), 12);
    }
  }

  /** libbpf btf_dedup_prep: base types are canonical and pre-hashed. */
  prep(from: u32, to: u32): bool {
    const table = this.table;
    for (let id = from; id < to; id++) {
      this.setMap(id, id);
      const p = this.rec(id);
      const k = this.kind(id);
      let h: u64 = 0;
      switch (k) {
        case KIND_VAR: case KIND_DATASEC: continue;
        // TYPEDEFs hash as the struct phase hashes them, so split typedefs meet
        // base ones (libbpf's fix after moving TYPEDEF to that phase; with
        // hash_common here only 6 of the 159 relocated-module goldens match).
        case KIND_TYPEDEF: h = hashTypedef(p); break;
        case KIND_CONST: case KIND_VOLATILE: case KIND_RESTRICT: case KIND_PTR: case KIND_FWD:
        case KIND_FUNC: case KIND_FLOAT: case KIND_TYPE_TAG:
          h = hashCommon(p); break;
        case KIND_INT: case KIND_DECL_TAG: h = hashIntTag(p); break;
        case KIND_ENUM: case KIND_ENUM64: h = hashEnum(p); break;
        case KIND_STRUCT: case KIND_UNION: h = hashStruct(p, this.vlen(id)); break;
        case KIND_ARRAY: h = hashArray(p); break;
        case KIND_FUNC_PROTO: h = hashFnProto(p, this.vlen(id)); break;
        default:
          return fail(Err.DEDUP_FAILED, -1, id, "base type [" + id.toString() + "] has kind " + k.toString() + ", which dedup does not know");
      }
      table.insert(h, id);
    }
    return true;
  }

  /**
   * libbpf btf_dedup_strings: every own string offset, in type and field
   * order, is re-added to a fresh set (split: base strings keep base offsets).
   * Unreferenced strings drop out; the new section is in first-use order.
   */
  stringsBegin(): void {
    const btf = this.btf;
    const strLen = btf.strLen;
    // Sized for kernel BTF's ~17 bytes a string; the table grows if needed.
    const limit = min<u64>(0x7fffffff, <u64>strLen * 8 + (16 << 20));
    this.strs = new StrSet(btf.base === null, strLen / 16 + 16, strLen + 1, limit);
    // Most strings are referenced many times: remember each old offset's answer.
    const memo = new StrMemo(btf.strs, strLen);
    this.strMemo = memo;
    for (let w: u32 = 0; w < memo.words; w += CHUNK) memo.scan(w, min(memo.words, w + CHUNK));
    memo.finish();
  }

  endStrings(): void {
    if (this.strMemo !== null) this.strMemo!.dispose();
    this.strMemo = null;
    if (this.strs !== null) this.strs!.dropIndex();
  }

  strings(from: u32, to: u32): bool {
    const btf = this.btf;
    const base = btf.base;
    const strs = this.strs!;
    const memo = this.strMemo!;
    const startOff = btf.startStrOff;
    const sec = btf.strs;
    for (let id = from; id < to; id++) {
      const p = this.rec(id);
      const k = this.kind(id);
      const cnt = strFieldCount(k, this.vlen(id));
      for (let i: u32 = 0; i < cnt; i++) {
        const a = strFieldAddr(p, k, i);
        const off = load<u32>(a);
        if (off == 0 || off < startOff) continue;
        const local = off - startOff;
        let nw = memo.get(local);
        if (nw == UNPROCESSED) {
          const sp = sec + <usize>local;
          let found: i64 = -1;
          if (base !== null) found = base.findStr(sp);
          nw = found >= 0 ? <u32>found : startOff + strs.add(sp);
          if (strs.overflow) return fail(Err.TOO_LARGE, -1, id, "the deduplicated string section would exceed " + strs.limit.toString() + " bytes (names point into the middle of strings)");
          memo.set(local, nw);
        }
        store<u32>(a, nw);
      }
    }
    return true;
  }

  /** libbpf btf_dedup_prim_type over own ids. */
  primTypes(from: u32, to: u32): bool {
    const table = this.table;
    for (let id = from; id < to; id++) {
      const k = this.kind(id);
      const p = this.rec(id);
      let newId = id;
      let h: u64 = 0;
      switch (k) {
        case KIND_CONST: case KIND_VOLATILE: case KIND_RESTRICT: case KIND_PTR: case KIND_TYPEDEF:
        case KIND_ARRAY: case KIND_STRUCT: case KIND_UNION: case KIND_FUNC: case KIND_FUNC_PROTO:
        case KIND_VAR: case KIND_DATASEC: case KIND_DECL_TAG: case KIND_TYPE_TAG:
          continue;
        case KIND_INT: {
          h = hashIntTag(p);
          for (let l = table.head(h); l != 0; l = table.nextOf(l)) {
            if (table.keyAt(l) != h) continue;
            const c = table.valAt(l);
            if (equalIntTag(p, this.rec(c))) { newId = c; break; }
          }
          break;
        }
        case KIND_ENUM: case KIND_ENUM64: {
          h = hashEnum(p);
          const vlen = this.vlen(id);
          const stride: u32 = k == KIND_ENUM ? ENUM_LEN : ENUM64_LEN;
          const mask: u32 = k == KIND_ENUM ? 3 : 7;
          for (let l = table.head(h); l != 0; l = table.nextOf(l)) {
            if (table.keyAt(l) != h) continue;
            const c = table.valAt(l);
            const q = this.rec(c);
            // btf_equal_enum (equal info implies the same kind and vlen).
            if (equalCommon(p, q) && equalElems(p + COMMON_LEN, q + COMMON_LEN, vlen, stride, mask)) { newId = c; break; }
            // btf_compat_enum: when neither is a forward it is btf_equal_enum, just refused.
            const ck = this.kind(c);
            if (vlen != 0 && this.vlen(c) != 0) continue;
            if (load<u32>(p, T_NAME) != load<u32>(q, T_NAME) || (ck != KIND_ENUM && ck != KIND_ENUM64)) continue;
            // An enum forward declaration resolves to the full enum.
            if (vlen == 0) { newId = c; break; }
            // The canonical one was the forward: point it at this full enum.
            this.setMap(c, id);
          }
          break;
        }
        case KIND_FWD: case KIND_FLOAT: {
          h = hashCommon(p);
          for (let l = table.head(h); l != 0; l = table.nextOf(l)) {
            if (table.keyAt(l) != h) continue;
            const c = table.valAt(l);
            if (equalCommon(p, this.rec(c))) { newId = c; break; }
          }
          break;
        }
        default:
          return fail(Err.DEDUP_FAILED, -1, id, "type [" + id.toString() + "] has kind " + k.toString() + ", which dedup does not know");
      }
      this.setMap(id, newId);
      if (newId == id) table.insert(h, id);
    }
    return true;
  }

  @inline isAnyEnum(id: u32): bool { const k = this.kind(id); return k == KIND_ENUM || k == KIND_ENUM64; }

  /** libbpf btf_compat_enum: equal, or one side is an enum forward with the same name (size and kind aside). */
  compatEnum(a: u32, b: u32): bool {
    const pa = this.rec(a);
    const pb = this.rec(b);
    const va = this.vlen(a);
    if (va != 0 && this.vlen(b) != 0) {
      if (!equalCommon(pa, pb)) return false;
      if (this.kind(a) == KIND_ENUM) return equalElems(pa + COMMON_LEN, pb + COMMON_LEN, va, ENUM_LEN, 3);
      return equalElems(pa + COMMON_LEN, pb + COMMON_LEN, va, ENUM64_LEN, 7);
    }
    return load<u32>(pa, T_NAME) == load<u32>(pb, T_NAME) && this.isAnyEnum(a) && this.isAnyEnum(b);
  }

  @inline shallowEqualStruct(a: u32, b: u32): bool {
    const pa = this.rec(a);
    const pb = this.rec(b);
    return equalCommon(pa, pb) && equalElems(pa + COMMON_LEN, pb + COMMON_LEN, this.vlen(a), MEMBER_LEN, 5);
  }

  /** libbpf btf_compat_array: common fields and nelems (element/index ids are compared by the walk). */
  @inline compatArray(pa: usize, pb: usize): bool {
    return equalCommon(pa, pb) && load<u32>(pa, COMMON_LEN + 8) == load<u32>(pb, COMMON_LEN + 8);
  }

  /** libbpf btf_compat_fnproto: name, info and parameter names (ids are compared by the walk). */
  @inline compatFnProto(pa: usize, pb: usize, vlen: u32): bool {
    if (load<u32>(pa, T_NAME) != load<u32>(pb, T_NAME) || load<u32>(pa, T_INFO) != load<u32>(pb, T_INFO)) return false;
    return equalElems(pa + COMMON_LEN, pb + COMMON_LEN, vlen, PARAM_LEN, 1);
  }

  /** libbpf btf_dedup_clear_hypot_map: undo only what the last check touched. */
  clearHypot(): void {
    const list = this.hypotList;
    const ids = this.ids;
    const lp = list.ptr;
    const n = list.len;
    for (let i: u32 = 0; i < n; i++) eSetHyp(ids, ld(lp, i), UNPROCESSED);
    list.len = 0;
    this.adjustCanon = false;
  }

  /**
   * libbpf btf_dedup_identical_types(id1, id2, 16): structural identity with
   * bounded depth (modifier chains do not use depth up). Pure, so the walk
   * order does not change the answer; the stack holds (id1, id2, depth).
   * Kept bug-compatible: for ARRAY libbpf compares the first array with
   * itself, so two compatible arrays always count as identical.
   */
  identical(id1: u32, id2: u32): i32 {
    const stack = this.stack;
    const floor = stack.len;
    stack.push(id1); stack.push(id2); stack.push(<u32>IDENTICAL_DEPTH);
    let steps: u32 = 0;
    let result: i32 = 1;
    while (stack.len > floor) {
      if (++steps > IDENTICAL_BUDGET) { result = R_TOO_COMPLEX; break; }
      const depth = <i32>stack.pop();
      const b = stack.pop();
      const a = stack.pop();
      if (depth <= 0) { result = 0; break; }
      const ka = this.kind(a);
      if (ka != this.kind(b)) { result = 0; break; }
      const pa = this.rec(a);
      const pb = this.rec(b);
      let ok = true;
      switch (ka) {
        case 0: break; // VOID
        case KIND_INT: ok = equalIntTag(pa, pb); break;
        case KIND_ENUM: case KIND_ENUM64: ok = this.compatEnum(a, b); break;
        case KIND_FWD: case KIND_FLOAT: ok = equalCommon(pa, pb); break;
        case KIND_CONST: case KIND_VOLATILE: case KIND_RESTRICT: case KIND_PTR:
        case KIND_TYPEDEF: case KIND_FUNC: case KIND_TYPE_TAG:
          if (load<u32>(pa, T_INFO) != load<u32>(pb, T_INFO) || load<u32>(pa, T_NAME) != load<u32>(pb, T_NAME)) { ok = false; break; }
          stack.push(load<u32>(pa, T_SIZE)); stack.push(load<u32>(pb, T_SIZE)); stack.push(<u32>depth);
          break;
        case KIND_ARRAY:
          ok = this.compatArray(pa, pb);
          break;
        case KIND_STRUCT: case KIND_UNION: {
          if (!this.shallowEqualStruct(a, b)) { ok = false; break; }
          const vlen = this.vlen(a);
          let ma = pa + COMMON_LEN + 4;
          let mb = pb + COMMON_LEN + 4;
          for (let i: u32 = 0; i < vlen; i++, ma += MEMBER_LEN, mb += MEMBER_LEN) {
            const ta = load<u32>(ma);
            const tb = load<u32>(mb);
            if (ta == tb) continue;
            stack.push(ta); stack.push(tb); stack.push(<u32>(depth - 1));
          }
          break;
        }
        case KIND_FUNC_PROTO: {
          const vlen = this.vlen(a);
          if (!this.compatFnProto(pa, pb, vlen)) { ok = false; break; }
          const ra = load<u32>(pa, T_SIZE);
          const rb = load<u32>(pb, T_SIZE);
          if (ra != rb) { stack.push(ra); stack.push(rb); stack.push(<u32>(depth - 1)); }
          let qa = pa + COMMON_LEN + 4;
          let qb = pb + COMMON_LEN + 4;
          for (let i: u32 = 0; i < vlen; i++, qa += PARAM_LEN, qb += PARAM_LEN) {
            const ta = load<u32>(qa);
            const tb = load<u32>(qb);
            if (ta == tb) continue;
            stack.push(ta); stack.push(tb); stack.push(<u32>(depth - 1));
          }
          break;
        }
        default: ok = false;
      }
      if (!ok) { result = 0; break; }
    }
    stack.len = floor;
    return result;
  }

  /**
   * libbpf btf_dedup_is_equiv(cand, canon): parallel DFS of the two type
   * graphs recording canon -> cand in the hypothetical map. Every check is
   * made when a pair is entered and nothing happens after its children
   * return, so a stack of pairs, children pushed in reverse, visits pairs in
   * exactly the recursive order. Returns 1 equivalent, 0 not, < 0 error.
   */
  isEquiv(cand0: u32, canon0: u32): i32 {
    const stack = this.stack;
    const ids = this.ids;
    const floor = stack.len;
    stack.push(cand0); stack.push(canon0);
    let result: i32 = 1;
    while (stack.len > floor) {
      let canon = stack.pop();
      const cand = stack.pop();
      // resolve_type_id on both sides.
      let rc = cand;
      while (true) { const m = eMap(ids, rc); if (m > MAX_ID || m == rc) break; rc = m; }
      let rn = canon;
      while (true) { const m = eMap(ids, rn); if (m > MAX_ID || m == rn) break; rn = m; }
      if (rc == rn) continue;
      // resolve_fwd_id: a FWD already resolved to a struct/union stands for it.
      if (eKind(ids, canon) == KIND_FWD && eKind(ids, rn) != KIND_FWD) canon = rn;
      const hyp = eHyp(ids, canon);
      if (hyp <= MAX_ID) {
        if (hyp == cand) continue;
        // Compilers sometimes emit separate but identical types inside one CU.
        const r = this.identical(hyp, cand);
        if (r == 1) continue;
        result = r;
        break;
      }
      this.hypotList.push(canon);
      eSetHyp(ids, canon, cand);
      const pc = eRec(ids, cand);
      const pn = eRec(ids, canon);
      const kc = eKind(ids, cand);
      const kn = eKind(ids, canon);
      if (load<u32>(pc, T_NAME) != load<u32>(pn, T_NAME)) { result = 0; break; }
      if (kc != kn) {
        if (kc != KIND_FWD && kn != KIND_FWD) { result = 0; break; }
        let realKind: u32, fwdKind: u32;
        if (kc == KIND_FWD) {
          realKind = kn;
          fwdKind = infoKflag(load<u32>(pc, T_INFO)) ? KIND_UNION : KIND_STRUCT;
        } else {
          realKind = kc;
          fwdKind = infoKflag(load<u32>(pn, T_INFO)) ? KIND_UNION : KIND_STRUCT;
          // Resolving a base FWD would change the immutable base.
          if (fwdKind == realKind && canon < this.startId) this.adjustCanon = true;
        }
        if (fwdKind != realKind) { result = 0; break; }
        continue;
      }
      switch (kc) {
        case KIND_INT:
          if (!equalIntTag(pc, pn)) result = 0;
          break;
        case KIND_ENUM: case KIND_ENUM64:
          if (!this.compatEnum(cand, canon)) result = 0;
          break;
        case KIND_FWD: case KIND_FLOAT:
          if (!equalCommon(pc, pn)) result = 0;
          break;
        case KIND_CONST: case KIND_VOLATILE: case KIND_RESTRICT: case KIND_PTR:
        case KIND_TYPEDEF: case KIND_FUNC: case KIND_TYPE_TAG:
          if (load<u32>(pc, T_INFO) != load<u32>(pn, T_INFO)) { result = 0; break; }
          stack.push(load<u32>(pc, T_SIZE)); stack.push(load<u32>(pn, T_SIZE));
          break;
        case KIND_ARRAY:
          if (!this.compatArray(pc, pn)) { result = 0; break; }
          // Index type first, then element type.
          stack.push(load<u32>(pc, COMMON_LEN)); stack.push(load<u32>(pn, COMMON_LEN));
          stack.push(load<u32>(pc, COMMON_LEN + 4)); stack.push(load<u32>(pn, COMMON_LEN + 4));
          break;
        case KIND_STRUCT: case KIND_UNION: {
          const vlen = eVlen(ids, cand);
          if (!equalCommon(pc, pn) || !equalElems(pc + COMMON_LEN, pn + COMMON_LEN, vlen, MEMBER_LEN, 5)) { result = 0; break; }
          stack.reserve(vlen << 1);
          let mc = pc + <usize>COMMON_LEN + <usize>vlen * MEMBER_LEN - 8;
          let mn = pn + <usize>COMMON_LEN + <usize>vlen * MEMBER_LEN - 8;
          for (let i: u32 = 0; i < vlen; i++, mc -= MEMBER_LEN, mn -= MEMBER_LEN) {
            stack.pushUnchecked(load<u32>(mc));
            stack.pushUnchecked(load<u32>(mn));
          }
          break;
        }
        case KIND_FUNC_PROTO: {
          const vlen = eVlen(ids, cand);
          if (!this.compatFnProto(pc, pn, vlen)) { result = 0; break; }
          stack.reserve((vlen + 1) << 1);
          let qc = pc + <usize>COMMON_LEN + <usize>vlen * PARAM_LEN - 4;
          let qn = pn + <usize>COMMON_LEN + <usize>vlen * PARAM_LEN - 4;
          for (let i: u32 = 0; i < vlen; i++, qc -= PARAM_LEN, qn -= PARAM_LEN) {
            stack.pushUnchecked(load<u32>(qc));
            stack.pushUnchecked(load<u32>(qn));
          }
          // Return type first.
          stack.pushUnchecked(load<u32>(pc, T_SIZE));
          stack.pushUnchecked(load<u32>(pn, T_SIZE));
          break;
        }
        default:
          result = R_INVAL;
      }
      if (result != 1) break;
    }
    stack.len = floor;
    return result;
  }

  /** libbpf btf_dedup_merge_hypot_map: keep FWD resolutions and struct correspondences of a proven match. */
  mergeHypot(): void {
    const list = this.hypotList;
    for (let i: u32 = 0; i < list.len; i++) {
      const canonId = ld(list.ptr, i);
      const targId = eHyp(this.ids, canonId);
      const t = this.resolve(targId);
      const c = this.resolve(canonId);
      const tk = this.kind(t);
      const ck = this.kind(c);
      // Base FWDs are pointed at split structs even when the match is refused.
      if (tk != KIND_FWD && ck == KIND_FWD) this.setMap(c, t);
      if (this.adjustCanon) continue;
      if (tk == KIND_FWD && ck != KIND_FWD) this.setMap(t, c);
      if ((tk == KIND_STRUCT || tk == KIND_UNION) && ck != KIND_FWD && this.isMapped(c) && !this.isMapped(t)) this.setMap(t, c);
    }
  }

  /** libbpf btf_dedup_struct_type (STRUCT, UNION and, in this libbpf, TYPEDEF) over own ids. */
  structTypes(from: u32, to: u32): bool {
    const table = this.table;
    for (let id = from; id < to; id++) {
      if (this.isMapped(id)) continue;
      const k = this.kind(id);
      if (k != KIND_STRUCT && k != KIND_UNION && k != KIND_TYPEDEF) continue;
      const p = this.rec(id);
      const isTypedef = k == KIND_TYPEDEF;
      const h = isTypedef ? hashTypedef(p) : hashStruct(p, this.vlen(id));
      let newId = id;
      for (let l = table.head(h); l != 0; l = table.nextOf(l)) {
        if (table.keyAt(l) != h) continue;
        const c = table.valAt(l);
        // Guards against a colliding FWD, which is_equiv would accept.
        if (isTypedef ? !equalTypedef(p, this.rec(c)) : !this.shallowEqualStruct(id, c)) continue;
        this.clearHypot();
        const eq = this.isEquiv(id, c);
        if (eq < 0) {
          this.errId = id;
          this.errOther = c;
          this.errCode = eq;
          return false;
        }
        if (eq == 0) continue;
        this.mergeHypot();
        if (this.adjustCanon) continue; // equivalent only by changing the base
        newId = c;
        break;
      }
      this.setMap(id, newId);
      if (newId == id) table.insert(h, id);
    }
    return true;
  }

  /** libbpf btf_dedup_resolve_fwds: a FWD left alone takes the only canonical struct/union of its name. */
  resolveFwds(): void {
    const n = this.n;
    let count: u32 = 0;
    for (let id: u32 = 1; id < n; id++) {
      const k = this.kind(id);
      if ((k == KIND_STRUCT || k == KIND_UNION) && this.mapOf(id) == id) count++;
    }
    // name_off -> id, 0 when the name is ambiguous.
    const byName = new U32Map(count);
    for (let id: u32 = 1; id < n; id++) {
      const k = this.kind(id);
      if (k != KIND_STRUCT && k != KIND_UNION) continue;
      if (this.mapOf(id) != id) continue;
      const name = load<u32>(this.rec(id), T_NAME);
      byName.set(name, byName.get(name, UNPROCESSED) == UNPROCESSED ? id : 0);
    }
    for (let id = this.startId; id < n; id++) {
      if (this.kind(id) != KIND_FWD || this.mapOf(id) != id) continue;
      const p = this.rec(id);
      const cand = byName.get(load<u32>(p, T_NAME), 0);
      if (cand == 0) continue;
      const ck = this.kind(cand);
      const isUnion = infoKflag(load<u32>(p, T_INFO));
      if ((ck == KIND_STRUCT && isUnion) || (ck == KIND_UNION && !isUnion)) continue;
      this.setMap(id, cand);
    }
    byName.dispose();
  }

  @inline isRefKind(k: u32): bool {
    return k == KIND_CONST || k == KIND_VOLATILE || k == KIND_RESTRICT || k == KIND_PTR ||
      k == KIND_FUNC || k == KIND_TYPE_TAG || k == KIND_DECL_TAG || k == KIND_ARRAY || k == KIND_FUNC_PROTO;
  }

  /** Hash a reference type whose referenced ids are canonical, and pick the first equal candidate. */
  finishRef(id: u32): u32 {
    const p = this.rec(id);
    const k = this.kind(id);
    const table = this.table;
    const ids = this.ids;
    let h: u64;
    let newId = id;
    if (k == KIND_DECL_TAG) {
      h = hashIntTag(p);
      for (let l = table.head(h); l != 0; l = table.nextOf(l)) {
        if (table.keyAt(l) != h) continue;
        const c = table.valAt(l);
        if (equalIntTag(p, eRec(ids, c))) { newId = c; break; }
      }
    } else if (k == KIND_ARRAY) {
      h = hashArray(p);
      for (let l = table.head(h); l != 0; l = table.nextOf(l)) {
        if (table.keyAt(l) != h) continue;
        const c = table.valAt(l);
        const q = eRec(ids, c);
        if (equalCommon(p, q) && equalWords(p + COMMON_LEN, q + COMMON_LEN, 12)) { newId = c; break; }
      }
    } else if (k == KIND_FUNC_PROTO) {
      const vlen = this.vlen(id);
      h = hashFnProto(p, vlen);
      for (let l = table.head(h); l != 0; l = table.nextOf(l)) {
        if (table.keyAt(l) != h) continue;
        const c = table.valAt(l);
        const q = eRec(ids, c);
        if (equalCommon(p, q) && equalWords(p + COMMON_LEN, q + COMMON_LEN, <usize>vlen * PARAM_LEN)) { newId = c; break; }
      }
    } else {
      h = hashCommon(p);
      for (let l = table.head(h); l != 0; l = table.nextOf(l)) {
        if (table.keyAt(l) != h) continue;
        const c = table.valAt(l);
        if (equalCommon(p, eRec(ids, c))) { newId = c; break; }
      }
    }
    this.setMap(id, newId);
    if (newId == id) table.insert(h, id);
    return newId;
  }

  /**
   * libbpf btf_dedup_ref_type on an explicit stack of (id, next field).
   * Referenced ids are made canonical first (depth first, in field order),
   * written back in place, then the type is hashed; so a later id reached
   * through an earlier one becomes canonical first, as in libbpf.
   */
  refType(root: u32): i32 {
    const ids = this.ids;
    const m = eMap(ids, root);
    if (m == IN_PROGRESS) return R_LOOP;
    if (m <= MAX_ID) return 0;
    if (!this.isRefKind(this.kind(root))) return R_INVAL;
    const stack = this.stack;
    const floor = stack.len;
    eSetMap(ids, root, IN_PROGRESS);
    stack.push(root); stack.push(0);
    let result: i32 = 0;
    while (stack.len > floor) {
      const top = stack.ptr + (<usize>(stack.len - 2) << 2);
      const id = load<u32>(top);
      const i = load<u32>(top, 4);
      const k = this.kind(id);
      const p = this.rec(id);
      if (i < typeIdFieldCount(k, this.vlen(id))) {
        const a = typeIdFieldAddr(p, k, i);
        const child = load<u32>(a);
        const cm = eMap(ids, child);
        if (cm == IN_PROGRESS) { result = R_LOOP; break; }
        if (cm <= MAX_ID) {
          store<u32>(a, this.resolve(child));
          store<u32>(top, i + 1, 4);
          continue;
        }
        if (!this.isRefKind(this.kind(child))) { result = R_INVAL; break; }
        eSetMap(ids, child, IN_PROGRESS);
        stack.push(child); stack.push(0);
        continue;
      }
      const newId = this.finishRef(id);
      stack.len -= 2;
      if (stack.len > floor) {
        const ptop = stack.ptr + (<usize>(stack.len - 2) << 2);
        const pid = load<u32>(ptop);
        const pi = load<u32>(ptop, 4);
        store<u32>(typeIdFieldAddr(this.rec(pid), this.kind(pid), pi), newId);
        store<u32>(ptop, pi + 1, 4);
      }
    }
    stack.len = floor;
    return result;
  }

  refTypes(from: u32, to: u32): bool {
    for (let id = from; id < to; id++) {
      const r = this.refType(id);
      if (r < 0) {
        this.errId = id;
        this.errCode = r;
        return false;
      }
    }
    return true;
  }

  /** Record the error of a failed phase (structTypes / refTypes). */
  reportFailure(): bool {
    const id = this.errId;
    const what = "type [" + id.toString() + "] " + kindName(this.kind(id));
    if (this.errCode == R_TOO_COMPLEX)
      return fail(Err.DEDUP_FAILED, -1, id, "comparing " + what + " with [" + this.errOther.toString() + "] exceeded " + IDENTICAL_BUDGET.toString() + " steps");
    if (this.errCode == R_LOOP)
      return fail(Err.DEDUP_FAILED, -1, id, what + " is part of a reference loop (libbpf: -ELOOP)");
    return fail(Err.DEDUP_FAILED, -1, id, what + " reaches a type dedup cannot handle there (libbpf: -EINVAL)");
  }

  /** Record length of an own type (its kind is known: earlier phases rejected the rest). */
  recLen(id: u32): usize {
    const k = this.kind(id);
    const v = <usize>this.vlen(id);
    switch (k) {
      case KIND_INT: case KIND_VAR: case KIND_DECL_TAG: return <usize>COMMON_LEN + 4;
      case KIND_ARRAY: return <usize>COMMON_LEN + 12;
      case KIND_STRUCT: case KIND_UNION: return <usize>COMMON_LEN + v * MEMBER_LEN;
      case KIND_ENUM: return <usize>COMMON_LEN + v * ENUM_LEN;
      case KIND_ENUM64: return <usize>COMMON_LEN + v * ENUM64_LEN;
      case KIND_FUNC_PROTO: return <usize>COMMON_LEN + v * PARAM_LEN;
      case KIND_DATASEC: return <usize>COMMON_LEN + v * 12;
      default: return <usize>COMMON_LEN;
    }
  }

  // ---- compaction and remapping (libbpf btf_dedup_compact_types + btf_dedup_remap_types)

  outIndex: usize = 0;
  outOff: usize = 0;
  outCount: u32 = 0;
  /** Kept types written so far. */
  outJ: u32 = 0;
  outHdrLen: u32 = 0;

  /** Number the kept types: hypot becomes old id -> new id, as in libbpf. */
  emitBegin(): void {
    const btf = this.btf;
    const n = this.n;
    const start = this.startId;
    const ids = this.ids;
    eSetHyp(ids, 0, 0);
    for (let id: u32 = 1; id < start; id++) eSetHyp(ids, id, id);
    let next = start;
    let wide = false;
    for (let id = start; id < n; id++) {
      if (this.mapOf(id) == id) {
        eSetHyp(ids, id, next++);
        if (this.vlen(id) > 0xffff) wide = true;
      } else eSetHyp(ids, id, UNPROCESSED);
    }
    // The input's header form, as libbpf keeps the parsed header (and 32
    // bytes wherever a layout section or a 24-bit vlen needs them).
    this.outHdrLen = btf.hdrLen >= HDR_LEN_LAYOUT || btf.layoutLen > 0 || (btf.wide && wide) ? HDR_LEN_LAYOUT : HDR_LEN_CLASSIC;
    this.outCount = next - start;
    this.outIndex = heap.alloc((<usize>this.outCount << 2) + 4);
    this.outOff = 0;
    this.outJ = 0;
  }

  /**
   * Move the kept types of [from, to) down over the dropped ones (a kept
   * type never moves up, so nothing still needed is overwritten) and
   * rewrite their ids to the new numbering.
   */
  emitTypes(from: u32, to: u32): bool {
    const n = this.n;
    const ids = this.ids;
    const types = this.work;
    const index = this.outIndex;
    let off = this.outOff;
    let j = this.outJ;
    for (let id = from; id < to; id++) {
      if (this.mapOf(id) != id) continue;
      const p = this.rec(id);
      const len = this.recLen(id);
      const q = types + off;
      if (q != p) memory.copy(q, p, len);
      st(index, j++, <u32>off);
      off += len;
      const k = this.kind(id);
      const cnt = typeIdFieldCount(k, this.vlen(id));
      for (let i: u32 = 0; i < cnt; i++) {
        const a = typeIdFieldAddr(q, k, i);
        const old = load<u32>(a);
        const nw = old < n ? eHyp(ids, this.resolve(old)) : UNPROCESSED;
        if (nw > MAX_ID) return fail(Err.DEDUP_FAILED, -1, id, "type [" + id.toString() + "] references [" + old.toString() + "], which has no place after dedup (libbpf: -EINVAL)");
        store<u32>(a, nw);
      }
    }
    this.outOff = off;
    this.outJ = j;
    return true;
  }

  /** Header, layout section and strings around the compacted types; the output object. */
  emitEnd(): Btf | null {
    const btf = this.btf;
    const hdrLen = this.outHdrLen;
    const typeLen = <u32>this.outOff;
    const layoutLen = hdrLen == HDR_LEN_LAYOUT ? btf.layoutLen : 0;
    const strs = this.strs!;
    const strLen = strs.len;
    const total = <u64>HDR_LEN_LAYOUT + typeLen + layoutLen + strLen;
    if (total > 0x7fffffff) return null;
    const block = heap.realloc(this.workMem, <usize>total);
    this.workMem = 0;
    this.work = 0;
    const types = block + HDR_LEN_LAYOUT;
    const mem = types - hdrLen;
    if (layoutLen > 0) memory.copy(types + typeLen, btf.layout, layoutLen);
    memory.copy(types + typeLen + layoutLen, strs.data.ptr, strLen);
    // Header: type_off 0, strings after the types (and the layout section, if kept).
    writeHeader(mem, hdrLen, btf.flags, typeLen, layoutLen, strLen);
    const out = new Btf();
    out.mem = mem;
    out.size = hdrLen + typeLen + layoutLen + strLen;
    out.owned = block;
    out.hdrLen = hdrLen;
    out.version = 1;
    out.flags = btf.flags;
    out.typeOff = 0;
    out.typeLen = typeLen;
    out.strOff = typeLen + layoutLen;
    out.strLen = strLen;
    out.layoutOff = layoutLen > 0 ? typeLen : 0;
    out.layoutLen = layoutLen;
    out.bigEndian = btf.bigEndian;
    out.wide = hdrLen == HDR_LEN_LAYOUT;
    out.types = types;
    out.strs = types + typeLen + layoutLen;
    out.layout = layoutLen > 0 ? types + typeLen : 0;
    out.index = this.outIndex;
    out.count = this.outCount;
    out.startId = this.startId;
    out.startStrOff = btf.startStrOff;
    if (btf.base !== null) {
      btf.base!.retain();
      out.base = btf.base;
    }
    this.outIndex = 0;
    return out;
  }

  /** Free an unfinished output index (after a failure; the blob is `workMem`). */
  emitAbort(): void {
    if (this.outIndex != 0) heap.free(this.outIndex);
    this.outIndex = 0;
  }
}

/**
 * libbpf btf__dedup on `btf` (base, or split on its base). Returns a new Btf
 * on the same base; the input is left as it was. Null with the error
 * recorded on failure.
 */
export function dedupBtf(btf: Btf): Btf | null {
  const d = new Dedup(btf);
  const out = runPhases(d);
  d.dispose();
  return out;
}

function runPhases(d: Dedup): Btf | null {
  const start = d.startId;
  const n = d.n;
  d.setupBegin();
  for (let i: u32 = 1; i < n; i += CHUNK) d.setup(i, min(n, i + CHUNK));
  for (let i: u32 = 1; i < start; i += CHUNK) if (!d.prep(i, min(start, i + CHUNK))) return null;
  d.stringsBegin();
  for (let i = start; i < n; i += CHUNK) if (!d.strings(i, min(n, i + CHUNK))) return null;
  d.endStrings();
  for (let i = start; i < n; i += CHUNK) if (!d.primTypes(i, min(n, i + CHUNK))) return null;
  for (let i = start; i < n; i += CHUNK) if (!d.structTypes(i, min(n, i + CHUNK))) { d.reportFailure(); return null; }
  d.resolveFwds();
  for (let i = start; i < n; i += CHUNK) if (!d.refTypes(i, min(n, i + CHUNK))) { d.reportFailure(); return null; }
  d.emitBegin();
  for (let i = start; i < n; i += CHUNK) {
    if (!d.emitTypes(i, min(n, i + CHUNK))) { d.emitAbort(); return null; }
  }
  const out = d.emitEnd();
  if (out === null) {
    d.emitAbort();
    fail(Err.TOO_LARGE, -1, 0, "deduplicated BTF would exceed 2 GiB");
  }
  return out;
}
