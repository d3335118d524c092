// The C header dump: byte for byte what `bpftool btf dump file F format c`
// prints, i.e. libbpf's btf_dump.c (v1.8) driven as bpftool's dump_btf_c.
//
// libbpf's algorithm is a set of mutually recursive functions:
//   btf_dump_order_type   topological order with weak (pointer) and strong links,
//   btf_dump_emit_type    forward declarations and definitions,
//   btf_dump_emit_type_decl / _emit_type_chain / _emit_struct_def
//                         C declarator syntax, with anonymous types inline.
// Their depth follows the input, so each is transcribed here as a machine over
// an explicit stack of frames: a frame is one activation of the C function,
// `pc` says where it resumes after the call it made returns. The order of
// every print and every name lookup is the same as in libbpf, which is what
// makes the `___N` renaming and the forward declarations come out identical.
//
// Performance: everything the hot loops touch is @unmanaged (plain memory the
// garbage collector does not track), including the output buffer, so the
// compiled code carries no shadow-stack spills; messages for failures are
// built in out-of-line helpers for the same reason.

import { Btf } from "../btf";
import { ByteSink } from "../sink";
import { Err, fail } from "../errors";
import { cstrEqLit, cstrcmp } from "../bytes";
import {
  COMMON_LEN, ENUM64_LEN, ENUM_LEN, KIND_ARRAY, KIND_CONST, KIND_DATASEC,
  KIND_DECL_TAG, KIND_ENUM, KIND_ENUM64, KIND_FLOAT, KIND_FUNC, KIND_FUNC_PROTO,
  KIND_FWD, KIND_INT, KIND_PTR, KIND_RESTRICT, KIND_STRUCT, KIND_TYPEDEF,
  KIND_TYPE_TAG, KIND_UNION, KIND_VAR, KIND_VOLATILE, MEMBER_LEN, PARAM_LEN,
  T_INFO, T_NAME, T_SIZE, VARSECINFO_LEN, infoKflag,
} from "../format";
import { NameCounts } from "./c_names";
import { U32Vec } from "../vec";
import { TypeTable, sortedIds, mergeSortU32 } from "./c_sort";

/** Options (bit flags) of dumpC. */
export const CDUMP_UNSORTED: u32 = 1; // type-id order (bpftool `unsorted`)
export const CDUMP_BARE: u32 = 2; // no vmlinux.h framing, no kfunc block
export const CDUMP_BPFTOOL_COMPAT: u32 = 4; // skip the first sorted type, as bpftool does

/** Outputs beyond this are refused (padding of a huge struct could otherwise run away). */
const OUT_CAP: u32 = 256 << 20;

// Per-type state byte (libbpf struct btf_dump_type_aux_state).
const ORD_MASK: u8 = 3;
const ORDERING: u8 = 1;
const ORDERED: u8 = 2;
const EMIT_MASK: u8 = 12;
const EMITTING: u8 = 4;
const EMITTED: u8 = 8;
const FWD_EMITTED: u8 = 16;
const NAME_RESOLVED: u8 = 32;
const REFERENCED: u8 = 64;

// Why a dump failed; failDump() words the message (out of line, so the hot
// code that detects a failure does not carry string temporaries).
const WHY_TOO_LARGE: i32 = 1;
const WHY_DECL_NEST: i32 = 2;
const WHY_DECL_LOOP: i32 = 3;
const WHY_REF_NEST: i32 = 4;
const WHY_CYCLE: i32 = 5;
const WHY_UNEXPECTED_KIND: i32 = 6;
const WHY_UNKNOWN_KIND: i32 = 7;

function failDump(code: i32, id: u32, what: i32): void {
  const t = "type [" + id.toString() + "]";
  let msg: string;
  switch (what) {
    case WHY_TOO_LARGE: msg = "the C header would exceed its size limit (16 MiB + 512 bytes per type, at most " + (OUT_CAP >> 20).toString() + " MiB): a struct or array of absurd size?"; break;
    case WHY_DECL_NEST: msg = "type declarations nest without end (a cycle through anonymous types or function prototypes)"; break;
    case WHY_DECL_LOOP: msg = "the declaration of " + t + " loops"; break;
    case WHY_REF_NEST: msg = "the types needed by " + t + " nest without end (a reference cycle)"; break;
    case WHY_CYCLE: msg = "unsatisfiable type cycle, id:[" + id.toString() + "]"; break;
    case WHY_UNEXPECTED_KIND: msg = t + " has a kind that cannot appear in a C declaration"; break;
    default: msg = t + " has a kind the C dump does not know"; break;
  }
  fail(code, -1, id, msg);
}

/** A zero byte: the empty C string. */
const EMPTY: usize = memory.data(8);

// Frames: 8 u32 fields at byte offsets 0..28; F_PC is the machine's pc,
// the other fields are named per machine below (each an activation of the
// libbpf function the machine follows). Printer frames keep their type
// (F_DECL, F_CHAIN, F_SDEF) in F_TYPE.
const FRAME: usize = 32;
const F_PC: u32 = 0;
const F_TYPE: u32 = 28;
// btf_dump_order_type
const FO_ID: u32 = 4;
const FO_THROUGH_PTR: u32 = 8;
const FO_INDEX: u32 = 12; // member or parameter index
const FO_STRONG: u32 = 16; // is_strong
// btf_dump_emit_type
const FE_ID: u32 = 4;
const FE_CONT: u32 = 8; // cont_id
const FE_INDEX: u32 = 12; // member or parameter index
const FE_MEMBER_CONT: u32 = 16; // cont_id for the members
// F_DECL (btf_dump_emit_type_decl)
const FD_START: u32 = 4; // start of its part of the decl stack
const FD_LEFT: u32 = 8; // entries left in that part (shared by its chain frames)
const FD_NAME: u32 = 12; // field name address
const FD_LEVEL: u32 = 16; // indent level
// F_CHAIN (btf_dump_emit_type_chain)
const FC_DECL: u32 = 4; // index of its F_DECL frame
const FC_LAST_PTR: u32 = 8; // last_was_ptr
const FC_ID: u32 = 12; // ARRAY or FUNC_PROTO being finished
const FC_PARAM: u32 = 16; // parameter index
const FC_MULTIDIM: u32 = 20; // a multi-dimensional array
// F_SDEF (btf_dump_emit_struct_def)
const FS_ID: u32 = 4;
const FS_LEVEL: u32 = 8; // indent level
const FS_MEMBER: u32 = 12; // member index
const FS_BIT_OFF: u32 = 16; // bit offset reached
const FS_FLAGS: u32 = 20; // SD_AFTER_BITFIELD | SD_PACKED
const FS_ALIGN: u32 = 24; // the struct's alignment
const SD_AFTER_BITFIELD: u32 = 1; // the previous member was a bitfield
const SD_PACKED: u32 = 2;

// Characters the dumper writes one at a time.
const CH_NL: u32 = 0x0a;
const CH_SPACE: u32 = 0x20;
const CH_LPAREN: u32 = 0x28;
const CH_RPAREN: u32 = 0x29;
const CH_COMMA: u32 = 0x2c;
const CH_MINUS: u32 = 0x2d;
const CH_SEMI: u32 = 0x3b;
const CH_LBRACKET: u32 = 0x5b;
const CH_RBRACKET: u32 = 0x5d;
const CH_UNDERSCORE: u32 = 0x5f;
const CH_TAB: u32 = 0x09;
const CH_RBRACE: u32 = 0x7d;
const F_DECL: u32 = 1;
const F_CHAIN: u32 = 2;
const F_SDEF: u32 = 3;

@unmanaged class Frames {
  ptr: usize = 0;
  len: u32 = 0;
  cap: u32 = 0;
  static create(): Frames {
    const f = new Frames();
    f.cap = 64;
    f.ptr = heap.alloc(<usize>f.cap * FRAME);
    return f;
  }
  /** A zeroed frame on top. Frame addresses move when the stack grows. */
  push(): usize {
    if (this.len == this.cap) {
      this.cap <<= 1;
      this.ptr = heap.realloc(this.ptr, <usize>this.cap * FRAME);
    }
    const f = this.ptr + <usize>this.len * FRAME;
    store<u64>(f, 0); store<u64>(f, 0, 8); store<u64>(f, 0, 16); store<u64>(f, 0, 24);
    this.len++;
    return f;
  }
  @inline at(i: u32): usize { return this.ptr + <usize>i * FRAME; }
  @inline top(): usize { return this.ptr + <usize>(this.len - 1) * FRAME; }
  @inline pop(): void { this.len--; }
  free(): void {
    heap.free(this.ptr);
    heap.free(changetype<usize>(this));
  }
}

// Order machine pcs.
const O_ENTER: u32 = 0;
const O_PTR_AFTER: u32 = 1;
const O_STRUCT_LOOP: u32 = 2;
const O_TYPEDEF_AFTER: u32 = 3;
const O_FP_LOOP: u32 = 4;
// Emit machine pcs.
const E_ENTER: u32 = 0;
const E_TYPEDEF_AFTER: u32 = 1;
const E_STRUCT_LOOP: u32 = 2;
const E_STRUCT_END: u32 = 3;
const E_FP_LOOP: u32 = 4;
// Chain frame pcs.
const C_LOOP: u32 = 0;
const C_ARRAY_AFTER: u32 = 1;
const C_FP_NESTED_AFTER: u32 = 2;
const C_FP_PARAM: u32 = 3;
// Struct definition frame pcs.
const S_START: u32 = 0;
const S_MEMBER: u32 = 1;
const S_AFTER_MEMBER: u32 = 2;

@unmanaged class CDumper {
  t: TypeTable;
  /** The table's arrays, copied here to save an indirection in hot code. */
  recs: usize = 0;
  kv: usize = 0;
  n: u32 = 0;
  ptrSz: i32 = 8;
  /**
   * The Btf being dumped, by address: this class is unmanaged, and dumpC
   * holds the Btf for the dumper's whole life.
   */
  btfAddr: usize = 0;
  failed: bool = false;
  /**
   * Stacks deeper than these mean a cycle libbpf would recurse on forever:
   * without one, a nesting path visits each type once, costing one order or
   * emit frame, and at most four printer frames (struct body, member
   * declaration, declarator chain, nested array/prototype chain).
   */
  maxDepth: u32 = 0;
  maxPrintDepth: u32 = 0;

  // The output, UTF-8.
  outPtr: usize = 0;
  outLen: u32 = 0;
  outCap: u32 = 0;

  state: usize = 0; // u8 per id
  cached: usize = 0; // u32 per id: address of the renamed NAME___N, or 0
  alignMemo: usize = 0; // i32 per id: -1 unknown, -2 being computed
  owned: U32Vec; // names this dump allocated
  typeNames: NameCounts;
  identNames: NameCounts;
  queue: U32Vec;
  decl: U32Vec;
  orderFrames: Frames;
  emitFrames: Frames;
  printFrames: Frames;
  alignStack: U32Vec;
  outLimit: u32 = 0;

  constructor(btf: Btf, t: TypeTable, ptrSz: i32, outCap: u32) {
    const n = t.n;
    this.btfAddr = changetype<usize>(btf);
    const cap = outCap < 256 ? 256 : outCap;
    const state = heap.alloc(n);
    memory.fill(state, 0, n);
    const cached = heap.alloc(<usize>n << 2);
    memory.fill(cached, 0, <usize>n << 2);
    const alignMemo = heap.alloc(<usize>n << 2);
    memory.fill(alignMemo, 0xff, <usize>n << 2);
    this.owned = new U32Vec(16);
    this.typeNames = new NameCounts(n / 4 + 64);
    this.identNames = new NameCounts(n / 2 + 64);
    this.queue = new U32Vec(256);
    this.decl = new U32Vec(256);
    this.orderFrames = Frames.create();
    this.emitFrames = Frames.create();
    this.printFrames = Frames.create();
    this.alignStack = new U32Vec(64);
    this.t = t;
    this.recs = t.recs;
    this.kv = t.kv;
    this.n = n;
    this.ptrSz = ptrSz;
    this.maxDepth = n + 64;
    this.maxPrintDepth = n * 4 + 64;
    this.outCap = cap;
    // Output is bounded in proportion to the input, so hostile sizes (padding
    // for a 4 GiB struct) fail fast instead of filling memory.
    const lim = (<u64>16 << 20) + (<u64>n << 9);
    this.outLimit = lim > <u64>OUT_CAP ? OUT_CAP : <u32>lim;
    this.outPtr = heap.alloc(cap);
    this.state = state;
    this.cached = cached;
    this.alignMemo = alignMemo;
  }

  free(): void {
    heap.free(this.outPtr);
    heap.free(this.state);
    heap.free(this.cached);
    heap.free(this.alignMemo);
    for (let i: u32 = 0; i < this.owned.len; i++) heap.free(<usize>this.owned.get(i));
    this.owned.free();
    this.typeNames.free();
    this.identNames.free();
    this.queue.free();
    this.decl.free();
    this.orderFrames.free();
    this.emitFrames.free();
    this.printFrames.free();
    this.alignStack.free();
    heap.free(changetype<usize>(this));
  }

  // ---- output ---------------------------------------------------------------

  @inline reserve(n: u32): void {
    if (<u64>this.outLen + n > <u64>this.outCap) this.grow(n);
  }
  private grow(n: u32): void {
    let c = <u64>this.outCap;
    const need = <u64>this.outLen + n;
    while (c < need) c <<= 1;
    // Never grow far past the limit: the padding loop stops soon after it.
    const ceiling = <u64>this.outLimit + 4096;
    if (c > ceiling && need <= ceiling) c = ceiling;
    if (c > 0x7fff0000) c = need;
    this.outPtr = heap.realloc(this.outPtr, <usize>c);
    this.outCap = <u32>c;
  }
  @inline byte(c: u32): void {
    this.reserve(1);
    store<u8>(this.outPtr + this.outLen, <u8>c);
    this.outLen++;
  }
  /** An ASCII literal. */
  lit(s: string): void {
    const n = <u32>s.length;
    this.reserve(n);
    const src = changetype<usize>(s);
    const dst = this.outPtr + this.outLen;
    for (let i: u32 = 0; i < n; i++) store<u8>(dst + i, <u8>load<u16>(src + (<usize>i << 1)));
    this.outLen += n;
  }
  u64dec(v: u64): void {
    this.reserve(20);
    let digits: u32 = 1;
    let x = v;
    while (x >= 10) { x /= 10; digits++; }
    let p = this.outPtr + this.outLen + digits;
    do {
      p--;
      store<u8>(p, <u8>(48 + <u32>(v % 10)));
      v /= 10;
    } while (v != 0);
    this.outLen += digits;
  }
  @inline u32dec(v: u32): void { this.u64dec(<u64>v); }
  i64dec(v: i64): void {
    if (v < 0) { this.byte(CH_MINUS); this.u64dec(<u64>0 - <u64>v); }
    else this.u64dec(<u64>v);
  }
  @inline i32dec(v: i32): void { this.i64dec(<i64>v); }

  /** Hand the output to a result sink. */
  moveOut(sink: ByteSink): void {
    sink.bytes(this.outPtr, this.outLen);
  }

  // ---- small accessors ----------------------------------------------------

  @inline st(id: u32): u8 { return load<u8>(this.state + id); }
  @inline setSt(id: u32, v: u8): void { store<u8>(this.state + id, v); }
  @inline isEmitted(id: u32): bool { return (this.st(id) & EMIT_MASK) == EMITTED; }
  @inline isOrdered(id: u32): bool { return (this.st(id) & ORD_MASK) == ORDERED; }
  @inline setOrder(id: u32, o: u8): void { this.setSt(id, (this.st(id) & ~ORD_MASK) | o); }
  @inline setEmit(id: u32, e: u8): void { this.setSt(id, (this.st(id) & ~EMIT_MASK) | e); }
  @inline kind(id: u32): u32 { return load<u32>(this.kv + (<usize>id << 2)) >> 24; }
  @inline vlen(id: u32): u32 { return load<u32>(this.kv + (<usize>id << 2)) & 0xffffff; }
  @inline rec(id: u32): usize { return <usize>load<u32>(this.recs + (<usize>id << 2)); }
  @inline nameOff(id: u32): u32 { return load<u32>(this.rec(id), T_NAME); }
  @inline typeOf(id: u32): u32 { return load<u32>(this.rec(id), T_SIZE); }
  @inline kflag(id: u32): bool { return infoKflag(load<u32>(this.rec(id), T_INFO)); }
  @inline member(id: u32, i: u32): usize { return this.rec(id) + COMMON_LEN + <usize>i * MEMBER_LEN; }
  @inline param(id: u32, i: u32): usize { return this.rec(id) + COMMON_LEN + <usize>i * PARAM_LEN; }
  @inline arrayElem(id: u32): u32 { return load<u32>(this.rec(id) + COMMON_LEN); }
  @inline arrayNelems(id: u32): u32 { return load<u32>(this.rec(id) + COMMON_LEN, 8); }
  @inline str(off: u32): usize { return this.t.str(off); }
  @inline isComposite(k: u32): bool { return k == KIND_STRUCT || k == KIND_UNION; }
  @inline memberBitOff(id: u32, m: usize): u32 {
    const o = load<u32>(m, 8);
    return this.kflag(id) ? o & 0xffffff : o;
  }
  @inline memberBitSize(id: u32, m: usize): u32 {
    return this.kflag(id) ? load<u32>(m, 8) >> 24 : 0;
  }

  /** Record the first failure; the machines stop when they see `failed`. */
  fatal(code: i32, id: u32, what: i32): void {
    if (!this.failed) failDump(code, id, what);
    this.failed = true;
  }

  // ---- setup: btf_dump_mark_referenced ------------------------------------

  markReferenced(): bool {
    const n = this.n;
    for (let id: u32 = 1; id < n; id++) {
      const k = this.kind(id);
      const p = this.rec(id);
      const vlen = this.vlen(id);
      switch (k) {
        case KIND_INT: case KIND_ENUM: case KIND_ENUM64: case KIND_FWD: case KIND_FLOAT:
          break;
        case KIND_VOLATILE: case KIND_CONST: case KIND_RESTRICT: case KIND_PTR:
        case KIND_TYPEDEF: case KIND_FUNC: case KIND_VAR: case KIND_DECL_TAG: case KIND_TYPE_TAG:
          this.ref(load<u32>(p, T_SIZE));
          break;
        case KIND_ARRAY:
          this.ref(load<u32>(p + COMMON_LEN, 4));
          this.ref(load<u32>(p + COMMON_LEN));
          break;
        case KIND_STRUCT: case KIND_UNION:
          for (let i: u32 = 0; i < vlen; i++) this.ref(load<u32>(p + COMMON_LEN + <usize>i * MEMBER_LEN, 4));
          break;
        case KIND_FUNC_PROTO:
          for (let i: u32 = 0; i < vlen; i++) this.ref(load<u32>(p + COMMON_LEN + <usize>i * PARAM_LEN, 4));
          break;
        case KIND_DATASEC:
          for (let i: u32 = 0; i < vlen; i++) this.ref(load<u32>(p + COMMON_LEN + <usize>i * VARSECINFO_LEN));
          break;
        default:
          this.fatal(Err.UNSUPPORTED, id, WHY_UNKNOWN_KIND);
          return false;
      }
    }
    // VOID is ordered and emitted from the start.
    this.setSt(0, ORDERED | EMITTED);
    return true;
  }

  @inline ref(id: u32): void { if (id < this.n) this.setSt(id, this.st(id) | REFERENCED); }

  // ---- btf__align_of, btf__resolve_size, btf_is_struct_packed --------------

  /** Follow typedef/modifier/array links to the type that decides the alignment. */
  private alignTarget(id: u32): u32 {
    for (let guard: u32 = 0; guard <= this.n; guard++) {
      const k = this.kind(id);
      if (k == KIND_TYPEDEF || k == KIND_VOLATILE || k == KIND_CONST || k == KIND_RESTRICT || k == KIND_TYPE_TAG) id = this.typeOf(id);
      else if (k == KIND_ARRAY) id = this.arrayElem(id);
      else return id;
    }
    return 0;
  }

  /** Alignment of a non-composite type, as btf__align_of. */
  private leafAlign(id: u32): i32 {
    const k = this.kind(id);
    if (k == KIND_INT || k == KIND_ENUM || k == KIND_ENUM64 || k == KIND_FLOAT) {
      const sz = load<u32>(this.rec(id), T_SIZE);
      return <u32>this.ptrSz < sz ? this.ptrSz : <i32>sz;
    }
    if (k == KIND_PTR) return this.ptrSz;
    return 0;
  }

  /**
   * btf__align_of (libbpf 1.8: 1 for a packed layout), memoised per id; a
   * struct's members are walked with an explicit stack.
   */
  alignOf(id0: u32): i32 {
    const memo = this.alignMemo;
    const m0 = load<i32>(memo + (<usize>id0 << 2));
    if (m0 >= 0) return m0;
    const id = this.alignTarget(id0);
    let v: i32;
    if (!this.isComposite(this.kind(id))) v = this.leafAlign(id);
    else {
      const known = load<i32>(memo + (<usize>id << 2));
      if (known == -2) return 0; // a struct that contains itself: not memoised
      v = known >= 0 ? known : this.structAlign(id);
    }
    store<i32>(memo + (<usize>id0 << 2), v);
    return v;
  }

  private structAlign(id: u32): i32 {
    const memo = this.alignMemo;
    // Frames: struct id, member index, max align so far (3 words each).
    const stack = this.alignStack;
    stack.len = 0;
    stack.push(id); stack.push(0); stack.push(1);
    store<i32>(memo + (<usize>id << 2), -2);
    while (stack.len > 0) {
      const top = stack.len - 3;
      const sid = stack.get(top);
      const i = stack.get(top + 1);
      let maxAlign = <i32>stack.get(top + 2);
      const vlen = this.vlen(sid);
      let result: i32 = -1;
      if (i < vlen) {
        const m = this.member(sid, i);
        const mtype = load<u32>(m, 4);
        let a = load<i32>(memo + (<usize>mtype << 2));
        if (a < 0) {
          const mt = this.alignTarget(mtype);
          if (this.isComposite(this.kind(mt))) {
            const v = load<i32>(memo + (<usize>mt << 2));
            if (v == -1) {
              store<i32>(memo + (<usize>mt << 2), -2);
              stack.push(mt); stack.push(0); stack.push(1);
              continue;
            }
            a = v == -2 ? 0 : v;
          } else a = this.leafAlign(mt);
        }
        if (a <= 0) result = a;
        else {
          if (a > maxAlign) maxAlign = a;
          if (this.memberBitSize(sid, m) == 0 && load<u32>(m, 8) % (8 * <u32>a) != 0) result = 1;
        }
        if (result < 0) {
          store<u32>(stack.ptr + (<usize>(top + 1) << 2), i + 1);
          store<u32>(stack.ptr + (<usize>(top + 2) << 2), <u32>maxAlign);
          continue;
        }
      } else {
        result = load<u32>(this.rec(sid), T_SIZE) % <u32>maxAlign != 0 ? 1 : maxAlign;
      }
      store<i32>(memo + (<usize>sid << 2), result);
      stack.len = top;
    }
    return load<i32>(memo + (<usize>id << 2));
  }

  /** btf__resolve_size: size in bytes, or -1 (the one implementation, Btf.resolveSize). */
  @inline resolveSize(id: u32): i64 {
    return changetype<Btf>(this.btfAddr).resolveSize(id, this.ptrSz);
  }

  /** btf_is_struct_packed. */
  isPacked(id: u32): bool {
    const vlen = this.vlen(id);
    let maxAlign: i32 = 1;
    for (let i: u32 = 0; i < vlen; i++) {
      const m = this.member(id, i);
      const a = this.alignOf(load<u32>(m, 4));
      if (a != 0 && this.memberBitSize(id, m) == 0 && load<u32>(m, 8) % (8 * <u32>a) != 0) return true;
      if (a > maxAlign) maxAlign = a;
    }
    return load<u32>(this.rec(id), T_SIZE) % <u32>maxAlign != 0;
  }

  // ---- names (btf_dump_resolve_name) --------------------------------------

  resolveName(id: u32, map: NameCounts): usize {
    const off = this.nameOff(id);
    if (off == 0) return EMPTY;
    const s = this.st(id);
    const orig = this.str(off);
    if ((s & NAME_RESOLVED) != 0) {
      const c = load<u32>(this.cached + (<usize>id << 2));
      return c != 0 ? <usize>c : orig;
    }
    this.setSt(id, s | NAME_RESOLVED);
    const k = this.kind(id);
    if (k == KIND_FWD || (k == KIND_ENUM && this.vlen(id) == 0)) return orig;
    const dup = map.bump(orig);
    if (dup <= 1) return orig;
    // snprintf("%s___%zu") into a 256-byte buffer: at most 255 characters survive.
    const p = heap.alloc(256);
    let len: u32 = 0;
    for (let q = orig; load<u8>(q) != 0 && len < 255; q++) store<u8>(p + len++, load<u8>(q));
    let digits: u32 = 1;
    for (let x = dup; x >= 10; x /= 10) digits++;
    const suffix: u32 = 3 + digits;
    for (let j: u32 = 0; j < suffix && len < 255; j++) {
      let c: u32 = CH_UNDERSCORE;
      if (j >= 3) {
        let v = dup;
        for (let k = digits - 1 - (j - 3); k > 0; k--) v /= 10;
        c = 48 + v % 10;
      }
      store<u8>(p + len++, <u8>c);
    }
    store<u8>(p + len, 0);
    this.owned.push(<u32>p);
    store<u32>(this.cached + (<usize>id << 2), <u32>p);
    return p;
  }
  @inline typeName(id: u32): usize { return this.resolveName(id, this.typeNames); }
  @inline identName(id: u32): usize { return this.resolveName(id, this.identNames); }

  isBlacklisted(id: u32): bool {
    const off = this.nameOff(id);
    return off != 0 && cstrEqLit(this.str(off), "__builtin_va_list");
  }

  // ---- leaf printers --------------------------------------------------------

  /** Indentation: one tab per level, at most 13 (libbpf's PREFIXES). */
  pfx(lvl: u32): void {
    const n: u32 = lvl > 13 ? 13 : lvl;
    this.reserve(n);
    const p = this.outPtr + this.outLen;
    for (let i: u32 = 0; i < n; i++) store<u8>(p + i, <u8>CH_TAB);
    this.outLen += n;
  }

  /**
   * Append a C string. Names are short: copying bytes while looking for the
   * NUL is cheaper than strlen plus a bulk copy, which V8 runs out of line.
   */
  putC(p: usize): void {
    let len = this.outLen;
    let dst = this.outPtr;
    let cap = this.outCap;
    while (true) {
      const c = load<u8>(p);
      if (c == 0) break;
      if (len == cap) {
        this.outLen = len;
        this.reserve(64);
        dst = this.outPtr;
        cap = this.outCap;
      }
      store<u8>(dst + len, c);
      len++;
      p++;
    }
    this.outLen = len;
  }

  structFwd(id: u32): void {
    this.lit(this.kind(id) == KIND_STRUCT ? "struct" : "union");
    if (this.nameOff(id) != 0) this.byte(CH_SPACE);
    this.putC(this.typeName(id));
  }

  fwdDef(id: u32): void {
    const name = this.typeName(id);
    this.lit(this.kflag(id) ? "union " : "struct ");
    this.putC(name);
  }

  enumFwd(id: u32): void {
    this.lit("enum ");
    this.putC(this.typeName(id));
  }

  enumDef(id: u32, lvl: u32): void {
    const vlen = this.vlen(id);
    const k = this.kind(id);
    this.lit("enum");
    if (this.nameOff(id) != 0) this.byte(CH_SPACE);
    this.putC(this.typeName(id));
    if (vlen == 0) return;
    this.lit(" {");
    const signed = this.kflag(id);
    const p = this.rec(id) + COMMON_LEN;
    let hiBits = false;
    for (let i: u32 = 0; i < vlen; i++) {
      const e = p + <usize>i * (k == KIND_ENUM ? ENUM_LEN : ENUM64_LEN);
      const name = this.str(load<u32>(e));
      // Enumerators share the identifier namespace with typedefs, and are
      // counted again every time the enum is printed (as libbpf does).
      const dup = this.identNames.bump(name);
      this.byte(CH_NL);
      this.pfx(lvl + 1);
      this.putC(name);
      if (dup > 1) { this.lit("___"); this.u32dec(dup); }
      this.lit(" = ");
      if (k == KIND_ENUM) {
        if (signed) this.i32dec(load<i32>(e, 4));
        else this.u32dec(load<u32>(e, 4));
      } else {
        const hi = load<u32>(e, 8);
        if (hi != 0) hiBits = true;
        const v = (<u64>hi << 32) | <u64>load<u32>(e, 4);
        if (signed) { this.i64dec(<i64>v); this.lit("LL"); }
        else { this.u64dec(v); this.lit("ULL"); }
      }
      this.byte(CH_COMMA);
    }
    this.byte(CH_NL);
    this.pfx(lvl);
    this.byte(CH_RBRACE);
    const size = load<u32>(this.rec(id), T_SIZE);
    if (size == 1) this.lit(" __attribute__((mode(byte)))");
    else if (size == 8 && this.ptrSz == 8 && (k == KIND_ENUM || !hiBits)) this.lit(" __attribute__((mode(word)))");
  }

  /** GCC's __PolyN_t typedefs for Arm SIMD (btf_dump_emit_missing_aliases). */
  missingAliases(id: u32): void {
    const name = this.typeName(id);
    let base: string = "";
    if (cstrEqLit(name, "__Poly8_t")) base = "unsigned char";
    else if (cstrEqLit(name, "__Poly16_t")) base = "unsigned short";
    else if (cstrEqLit(name, "__Poly64_t")) base = "unsigned long long";
    else if (cstrEqLit(name, "__Poly128_t")) base = "unsigned __int128";
    else return;
    this.lit("typedef ");
    this.lit(base);
    this.byte(CH_SPACE);
    this.putC(name);
    this.lit(";\n\n");
  }

  /** btf_dump_emit_bit_padding; offsets in bits, C int arithmetic. */
  bitPadding(cur: i32, next: i32, nextAlign: i32, inBitfield: bool, lvl: u32): void {
    if (cur >= next) return;
    const longBits = this.ptrSz * 8;
    let padBits: i32 = 0;
    let padIdx: i32 = 0;
    let newOff: i32 = 0;
    for (padIdx = 0; padIdx < 4; padIdx++) {
      padBits = padIdx == 0 ? longBits : padIdx == 1 ? 32 : padIdx == 2 ? 16 : 8;
      newOff = roundup(cur, padBits);
      if (newOff <= next) break;
    }
    if (padIdx == 4) padIdx = 3;
    if (newOff > cur && newOff <= next) {
      if (inBitfield || (newOff == next && roundup(cur, nextAlign * 8) != newOff) ||
          (newOff != next && next - newOff <= newOff - cur)) {
        this.padLine(padIdx, inBitfield ? newOff - cur : 0, lvl);
      }
      cur = newOff;
    }
    // Each full padding line takes at least 8 bytes ("char: 8;\n"): when the
    // lines still to come cannot fit under the limit, fail now rather than
    // after writing tens of MB of them (fuzz seed=1 case=335: 1.4 s).
    if (<u64>this.outLen + (<u64>(<u32>(next - cur) / <u32>padBits) << 3) > <u64>this.outLimit) {
      this.fatal(Err.TOO_LARGE, 0, WHY_TOO_LARGE);
      return;
    }
    while (cur != next) {
      if (this.outLen > this.outLimit) { this.fatal(Err.TOO_LARGE, 0, WHY_TOO_LARGE); return; }
      const bits = min<i32>(next - cur, padBits);
      if (bits == padBits) {
        this.padLine(padIdx, padBits, lvl);
        cur += bits;
        continue;
      }
      for (let i: i32 = 3; i >= 0; i--) {
        const b = i == 0 ? longBits : i == 1 ? 32 : i == 2 ? 16 : 8;
        padIdx = i;
        padBits = b;
        if (b < bits) continue;
        this.padLine(i, bits, lvl);
        cur += bits;
        break;
      }
    }
  }

  private padLine(idx: i32, bits: i32, lvl: u32): void {
    this.byte(CH_NL);
    this.pfx(lvl);
    this.lit(idx == 0 ? "long" : idx == 1 ? "int" : idx == 2 ? "short" : "char");
    this.lit(": ");
    this.i32dec(bits);
    this.byte(CH_SEMI);
  }

  // ---- the printer machine: emit_type_decl / emit_type_chain / emit_struct_def

  /** btf_dump_emit_type_decl: push the declaration chain, then print it. */
  printDecl(id: u32, fname: usize, lvl: u32): void {
    const base = this.printFrames.len;
    this.pushDecl(id, fname, lvl);
    this.runPrinter(base);
  }

  /** btf_dump_emit_struct_def as a top-level call. */
  printStructDef(id: u32, lvl: u32): void {
    const base = this.printFrames.len;
    this.pushStructDef(id, lvl);
    this.runPrinter(base);
  }

  /** btf_dump_emit_typedef_def. */
  typedefDef(id: u32, lvl: u32): void {
    const name = this.identName(id);
    const target = this.typeOf(id);
    if (target == 0 && cstrEqLit(name, "__gnuc_va_list")) {
      this.lit("typedef __builtin_va_list __gnuc_va_list");
      return;
    }
    this.lit("typedef ");
    this.printDecl(target, name, lvl);
  }

  private newFrame(type: u32): usize {
    if (this.printFrames.len >= this.maxPrintDepth) {
      this.fatal(Err.LOOP, 0, WHY_DECL_NEST);
      return 0;
    }
    const f = this.printFrames.push();
    store<u32>(f, type, F_TYPE);
    return f;
  }

  private pushDecl(id0: u32, fname: usize, lvl: u32): void {
    const decl = this.decl;
    const start = decl.len;
    let id = id0;
    while (true) {
      if (decl.len - start > this.n) {
        this.fatal(Err.LOOP, id0, WHY_DECL_LOOP);
        return;
      }
      decl.push(id);
      if (id == 0) break;
      const k = this.kind(id);
      if (k == KIND_PTR || k == KIND_VOLATILE || k == KIND_CONST || k == KIND_RESTRICT ||
          k == KIND_FUNC_PROTO || k == KIND_TYPE_TAG) id = this.typeOf(id);
      else if (k == KIND_ARRAY) id = this.arrayElem(id);
      else break; // INT, ENUM, ENUM64, FWD, STRUCT, UNION, TYPEDEF, FLOAT, or unexpected
    }
    const f = this.newFrame(F_DECL);
    if (f == 0) return;
    store<u32>(f, start, FD_START);
    store<u32>(f, decl.len - start, FD_LEFT);
    store<u32>(f, <u32>fname, FD_NAME);
    store<u32>(f, lvl, FD_LEVEL);
  }

  private pushChain(declIdx: u32): void {
    const f = this.newFrame(F_CHAIN);
    if (f == 0) return;
    store<u32>(f, declIdx, FC_DECL);
    store<u32>(f, 1, FC_LAST_PTR); // last_was_ptr starts true
  }

  private pushStructDef(id: u32, lvl: u32): void {
    const f = this.newFrame(F_SDEF);
    if (f == 0) return;
    store<u32>(f, id, FS_ID);
    store<u32>(f, lvl, FS_LEVEL);
  }

  private runPrinter(base: u32): void {
    const frames = this.printFrames;
    while (frames.len > base) {
      if (this.failed) { frames.len = base; return; }
      const fi = frames.len - 1;
      const type = load<u32>(frames.at(fi), F_TYPE);
      if (type == F_DECL) this.stepDecl(fi);
      else if (type == F_CHAIN) this.stepChain(fi);
      else this.stepStructDef(fi);
    }
  }

  private stepDecl(fi: u32): void {
    const f = this.printFrames.at(fi);
    if (load<u32>(f, F_PC) == 0) {
      store<u32>(f, 1, F_PC);
      this.pushChain(fi);
    } else {
      this.decl.len = load<u32>(f, FD_START); // drop this declaration's stack frame
      this.printFrames.pop();
    }
  }

  /** Print the modifiers directly above the current element as prefixes (btf_dump_emit_mods). */
  private emitMods(df: usize): void {
    const start = load<u32>(df, FD_START);
    let cnt = load<u32>(df, FD_LEFT);
    while (cnt > 0) {
      const k = this.kind(this.decl.get(start + cnt - 1));
      if (k == KIND_VOLATILE) this.lit("volatile ");
      else if (k == KIND_CONST) this.lit("const ");
      else if (k == KIND_RESTRICT) this.lit("restrict ");
      else break;
      cnt--;
    }
    store<u32>(df, cnt, FD_LEFT);
  }

  /** btf_dump_drop_mods: skip modifiers (type tags included). */
  private dropMods(df: usize): void {
    const start = load<u32>(df, FD_START);
    let cnt = load<u32>(df, FD_LEFT);
    while (cnt > 0) {
      const k = this.kind(this.decl.get(start + cnt - 1));
      if (k != KIND_VOLATILE && k != KIND_CONST && k != KIND_RESTRICT && k != KIND_TYPE_TAG) break;
      cnt--;
    }
    store<u32>(df, cnt, FD_LEFT);
  }

  private emitName(fname: usize, lastWasPtr: bool): void {
    if (load<u8>(fname) != 0 && !lastWasPtr) this.byte(CH_SPACE);
    this.putC(fname);
  }

  /** One activation of btf_dump_emit_type_chain. */
  private stepChain(fi: u32): void {
    const frames = this.printFrames;
    let f = frames.at(fi);
    const declIdx = load<u32>(f, FC_DECL);
    const df = frames.at(declIdx);
    const start = load<u32>(df, FD_START);
    const fname = <usize>load<u32>(df, FD_NAME);
    const lvl = load<u32>(df, FD_LEVEL);
    const pc = load<u32>(f, F_PC);

    if (pc == C_ARRAY_AFTER) {
      if (load<u32>(f, FC_MULTIDIM) == 0) this.byte(CH_RPAREN);
      this.byte(CH_LBRACKET); this.u32dec(this.arrayNelems(load<u32>(f, FC_ID))); this.byte(CH_RBRACKET);
      frames.pop();
      return;
    }
    if (pc == C_FP_NESTED_AFTER) {
      this.byte(CH_RPAREN);
      this.fpParamsStart(fi);
      return;
    }
    if (pc == C_FP_PARAM) {
      const id = load<u32>(f, FC_ID);
      const i = load<u32>(f, FC_PARAM);
      const vlen = this.vlen(id);
      if (i >= vlen) { this.byte(CH_RPAREN); frames.pop(); return; }
      if (i > 0) this.lit(", ");
      const p = this.param(id, i);
      const ptype = load<u32>(p, 4);
      if (i == vlen - 1 && ptype == 0) { this.lit("..."); this.byte(CH_RPAREN); frames.pop(); return; }
      store<u32>(f, i + 1, FC_PARAM);
      this.pushDecl(ptype, this.str(load<u32>(p)), lvl);
      return;
    }

    // C_LOOP
    let last = load<u32>(f, FC_LAST_PTR) != 0;
    while (true) {
      let cnt = load<u32>(df, FD_LEFT);
      if (cnt == 0) {
        this.emitName(fname, last);
        frames.pop();
        return;
      }
      cnt--;
      store<u32>(df, cnt, FD_LEFT);
      const id = this.decl.get(start + cnt);
      if (id == 0) {
        this.emitMods(df);
        this.lit("void");
        last = false;
        continue;
      }
      const k = this.kind(id);
      switch (k) {
        case KIND_INT: case KIND_FLOAT:
          this.emitMods(df);
          this.putC(this.str(this.nameOff(id)));
          break;
        case KIND_STRUCT: case KIND_UNION:
          this.emitMods(df);
          if (this.nameOff(id) == 0) {
            // Inline anonymous definition; the loop resumes after it with last_was_ptr false.
            store<u32>(f, 0, FC_LAST_PTR);
            this.pushStructDef(id, lvl);
            return;
          }
          this.structFwd(id);
          break;
        case KIND_ENUM: case KIND_ENUM64:
          this.emitMods(df);
          if (this.nameOff(id) == 0) this.enumDef(id, lvl);
          else this.enumFwd(id);
          break;
        case KIND_FWD:
          this.emitMods(df);
          this.fwdDef(id);
          break;
        case KIND_TYPEDEF:
          this.emitMods(df);
          this.putC(this.identName(id));
          break;
        case KIND_PTR:
          this.lit(last ? "*" : " *");
          break;
        case KIND_VOLATILE: this.lit(" volatile"); break;
        case KIND_CONST: this.lit(" const"); break;
        case KIND_RESTRICT: this.lit(" restrict"); break;
        case KIND_TYPE_TAG: {
          this.emitMods(df);
          const v = this.str(this.nameOff(id));
          if (this.kflag(id)) { this.lit(" __attribute__(("); this.putC(v); this.lit("))"); }
          else { this.lit(" __attribute__((btf_type_tag(\""); this.putC(v); this.lit("\")))"); }
          break;
        }
        case KIND_ARRAY: {
          this.dropMods(df);
          const rest = load<u32>(df, FD_LEFT);
          if (rest == 0) {
            this.emitName(fname, last);
            this.byte(CH_LBRACKET); this.u32dec(this.arrayNelems(id)); this.byte(CH_RBRACKET);
            frames.pop();
            return;
          }
          const multidim = this.kind(this.decl.get(start + rest - 1)) == KIND_ARRAY;
          if (load<u8>(fname) != 0 && !last) this.byte(CH_SPACE);
          if (!multidim) this.byte(CH_LPAREN);
          store<u32>(f, C_ARRAY_AFTER, F_PC);
          store<u32>(f, id, FC_ID);
          store<u32>(f, multidim ? 1 : 0, FC_MULTIDIM);
          this.pushChain(declIdx);
          return;
        }
        case KIND_FUNC_PROTO: {
          this.dropMods(df);
          store<u32>(f, id, FC_ID);
          if (load<u32>(df, FD_LEFT) != 0) {
            this.lit(" (");
            store<u32>(f, C_FP_NESTED_AFTER, F_PC);
            this.pushChain(declIdx);
            return;
          }
          this.emitName(fname, last);
          this.fpParamsStart(fi);
          return;
        }
        default:
          frames.pop(); // unexpected kind in a declaration: libbpf warns and stops
          return;
      }
      last = k == KIND_PTR;
      f = frames.at(fi);
    }
  }

  /** The "(" params ")" of a function prototype; the frame then loops over params. */
  private fpParamsStart(fi: u32): void {
    const f = this.printFrames.at(fi);
    const id = load<u32>(f, FC_ID);
    const vlen = this.vlen(id);
    this.byte(CH_LPAREN);
    if (vlen == 0 || (vlen == 1 && load<u32>(this.param(id, 0), 4) == 0)) {
      this.lit("void)");
      this.printFrames.pop();
      return;
    }
    store<u32>(f, C_FP_PARAM, F_PC);
    store<u32>(f, 0, FC_PARAM);
  }

  /** One activation of btf_dump_emit_struct_def. */
  private stepStructDef(fi: u32): void {
    const frames = this.printFrames;
    const f = frames.at(fi);
    const id = load<u32>(f, FS_ID);
    const lvl = load<u32>(f, FS_LEVEL);
    const pc = load<u32>(f, F_PC);
    const isStruct = this.kind(id) == KIND_STRUCT;
    const vlen = this.vlen(id);

    if (pc == S_START) {
      const align = this.alignOf(id);
      const packed = isStruct ? this.isPacked(id) : false;
      this.lit(isStruct ? "struct" : "union");
      if (this.nameOff(id) != 0) this.byte(CH_SPACE);
      this.putC(this.typeName(id));
      this.lit(" {");
      const g = frames.at(fi);
      store<u32>(g, S_MEMBER, F_PC);
      store<u32>(g, 0, FS_MEMBER); // member index
      store<i32>(g, 0, FS_BIT_OFF); // bit offset reached
      store<u32>(g, packed ? SD_PACKED : 0, FS_FLAGS);
      store<i32>(g, align, FS_ALIGN);
      return;
    }
    const i = load<u32>(f, FS_MEMBER);
    if (pc == S_AFTER_MEMBER) {
      const m = this.member(id, i);
      let msz = <i32>this.memberBitSize(id, m);
      const moff = <i32>this.memberBitOff(id, m);
      let off: i32;
      let flags = load<u32>(f, FS_FLAGS) & SD_PACKED;
      if (msz != 0) {
        this.lit(": ");
        this.i32dec(msz);
        off = moff + msz;
        flags |= SD_AFTER_BITFIELD;
      } else {
        const sz = this.resolveSize(load<u32>(m, 4));
        msz = sz < 0 ? 0 : <i32>sz;
        off = moff + msz * 8;
      }
      this.byte(CH_SEMI);
      store<u32>(f, S_MEMBER, F_PC);
      store<u32>(f, i + 1, FS_MEMBER);
      store<i32>(f, off, FS_BIT_OFF);
      store<u32>(f, flags, FS_FLAGS);
      return;
    }
    // S_MEMBER
    const off = load<i32>(f, FS_BIT_OFF);
    const flags = load<u32>(f, FS_FLAGS);
    if (i < vlen) {
      const m = this.member(id, i);
      const msz = this.memberBitSize(id, m);
      const moff = <i32>this.memberBitOff(id, m);
      const malign = (flags & SD_PACKED) != 0 ? 1 : this.alignOf(load<u32>(m, 4));
      const inBitfield = (flags & SD_AFTER_BITFIELD) != 0 && msz != 0;
      this.bitPadding(off, moff, malign, inBitfield, lvl + 1);
      this.byte(CH_NL);
      this.pfx(lvl + 1);
      store<u32>(frames.at(fi), S_AFTER_MEMBER, F_PC);
      this.pushDecl(load<u32>(m, 4), this.str(load<u32>(m)), lvl + 1);
      return;
    }
    const size = load<u32>(this.rec(id), T_SIZE);
    if (isStruct) this.bitPadding(off, <i32>(size * 8), load<i32>(f, FS_ALIGN), false, lvl + 1);
    if (vlen != 0 || size != 0) {
      this.byte(CH_NL);
      this.pfx(lvl);
      this.byte(CH_RBRACE);
    } else {
      this.byte(CH_RBRACE);
    }
    if ((flags & SD_PACKED) != 0) this.lit(" __attribute__((packed))");
    frames.pop();
  }

  // ---- btf_dump_order_type ------------------------------------------------

  /** Returns false (with the error recorded) on an unsatisfiable cycle. */
  orderType(root: u32): bool {
    const frames = this.orderFrames;
    frames.len = 0;
    let f = frames.push();
    store<u32>(f, root, FO_ID);
    let ret: i32 = 0;
    while (frames.len > 0) {
      if (frames.len > this.maxDepth) return this.orderFail(root, WHY_REF_NEST);
      f = frames.top();
      const pc = load<u32>(f, F_PC);
      const id = load<u32>(f, FO_ID);
      const tp = load<u32>(f, FO_THROUGH_PTR) != 0;
      if (pc == O_ENTER) {
        const s = this.st(id);
        if ((s & ORD_MASK) == ORDERED) { ret = 1; frames.pop(); continue; }
        const k = this.kind(id);
        const named = this.nameOff(id) != 0;
        if ((s & ORD_MASK) == ORDERING) {
          if (this.isComposite(k) && tp && named) { ret = 0; frames.pop(); continue; }
          return this.orderFail(id, WHY_CYCLE);
        }
        switch (k) {
          case KIND_INT: case KIND_FLOAT:
            this.setOrder(id, ORDERED); ret = 0; frames.pop();
            break;
          case KIND_PTR: {
            const target = this.typeOf(id);
            if (this.isOrdered(target)) { this.setOrder(id, ORDERED); ret = 1; frames.pop(); break; }
            store<u32>(f, O_PTR_AFTER, F_PC);
            const c = frames.push();
            store<u32>(c, target, FO_ID);
            store<u32>(c, 1, FO_THROUGH_PTR);
            break;
          }
          case KIND_ARRAY:
            // return btf_dump_order_type(elem, false): this frame becomes the callee
            store<u32>(f, this.arrayElem(id), FO_ID);
            store<u32>(f, 0, FO_THROUGH_PTR);
            break;
          case KIND_STRUCT: case KIND_UNION:
            if (tp && named) { ret = 0; frames.pop(); break; }
            this.setOrder(id, ORDERING);
            store<u32>(f, O_STRUCT_LOOP, F_PC);
            store<u32>(f, 0, FO_INDEX);
            break;
          case KIND_ENUM: case KIND_ENUM64: case KIND_FWD:
            if (named || (s & REFERENCED) == 0) this.queue.push(id);
            this.setOrder(id, ORDERED); ret = 1; frames.pop();
            break;
          case KIND_TYPEDEF: {
            const target = this.typeOf(id);
            store<u32>(f, O_TYPEDEF_AFTER, F_PC);
            if (this.isOrdered(target)) { ret = 1; break; } // the call would return 1 at once
            const c = frames.push();
            store<u32>(c, target, FO_ID);
            store<u32>(c, tp ? 1 : 0, FO_THROUGH_PTR);
            break;
          }
          case KIND_VOLATILE: case KIND_CONST: case KIND_RESTRICT: case KIND_TYPE_TAG:
            store<u32>(f, this.typeOf(id), FO_ID);
            break;
          case KIND_FUNC_PROTO:
            store<u32>(f, O_FP_LOOP, F_PC);
            store<u32>(f, 0, FO_INDEX); // 0 = return type next, i = param i-1 next
            store<u32>(f, 0, FO_STRONG); // is_strong
            break;
          case KIND_FUNC: case KIND_VAR: case KIND_DATASEC: case KIND_DECL_TAG:
            this.setOrder(id, ORDERED); ret = 0; frames.pop();
            break;
          default:
            return this.orderFail(id, WHY_UNEXPECTED_KIND);
        }
        continue;
      }
      if (pc == O_PTR_AFTER) {
        this.setOrder(id, ORDERED);
        frames.pop();
        continue;
      }
      if (pc == O_STRUCT_LOOP) {
        // Members already ordered return 1 at once: skip them without a frame.
        let i = load<u32>(f, FO_INDEX);
        const vlen = this.vlen(id);
        let mt: u32 = 0;
        while (i < vlen) {
          mt = load<u32>(this.member(id, i), 4);
          if (!this.isOrdered(mt)) break;
          i++;
        }
        if (i < vlen) {
          store<u32>(f, i + 1, FO_INDEX);
          const c = frames.push();
          store<u32>(c, mt, FO_ID);
          continue;
        }
        if (this.nameOff(id) != 0) this.queue.push(id);
        this.setOrder(id, ORDERED);
        ret = 1;
        frames.pop();
        continue;
      }
      if (pc == O_TYPEDEF_AFTER) {
        if (tp && ret == 0) { frames.pop(); continue; }
        this.queue.push(id);
        this.setOrder(id, ORDERED);
        ret = 1;
        frames.pop();
        continue;
      }
      // O_FP_LOOP: the return type, then each parameter; ordered ones count as strong at once.
      let i = load<u32>(f, FO_INDEX);
      let strong = load<u32>(f, FO_STRONG);
      if (i > 0 && ret > 0) strong = 1;
      const vlen = this.vlen(id);
      let next: u32 = 0;
      while (i <= vlen) {
        next = i == 0 ? this.typeOf(id) : load<u32>(this.param(id, i - 1), 4);
        if (!this.isOrdered(next)) break;
        strong = 1;
        i++;
      }
      store<u32>(f, strong, FO_STRONG);
      if (i <= vlen) {
        store<u32>(f, i + 1, FO_INDEX);
        const c = frames.push();
        store<u32>(c, next, FO_ID);
        store<u32>(c, tp ? 1 : 0, FO_THROUGH_PTR);
        continue;
      }
      ret = <i32>strong;
      frames.pop();
    }
    return true;
  }

  private orderFail(id: u32, what: i32): bool {
    this.fatal(what == WHY_UNEXPECTED_KIND ? Err.UNSUPPORTED : Err.LOOP, id, what);
    return false;
  }

  // ---- btf_dump_emit_type --------------------------------------------------

  emitType(root: u32): void {
    const frames = this.emitFrames;
    frames.len = 0;
    let f = frames.push();
    store<u32>(f, root, FE_ID);
    while (frames.len > 0 && !this.failed) {
      if (frames.len > this.maxDepth) { this.fatal(Err.LOOP, root, WHY_REF_NEST); return; }
      f = frames.top();
      const pc = load<u32>(f, F_PC);
      const id = load<u32>(f, FE_ID);
      const cont = load<u32>(f, FE_CONT);
      if (pc == E_ENTER) {
        const s = this.st(id);
        if ((s & EMIT_MASK) == EMITTED) { frames.pop(); continue; }
        const k = this.kind(id);
        if ((s & EMIT_MASK) == EMITTING) {
          frames.pop();
          if ((s & FWD_EMITTED) != 0) continue;
          if (this.isComposite(k)) {
            // A struct referring to itself needs nothing; an anonymous loop gets a warning only.
            if (id == cont || this.nameOff(id) == 0) continue;
            this.structFwd(id);
            this.lit(";\n\n");
            this.setSt(id, this.st(id) | FWD_EMITTED);
          } else if (k == KIND_TYPEDEF) {
            if (!this.isBlacklisted(id)) {
              this.typedefDef(id, 0);
              this.lit(";\n\n");
            }
            this.setSt(id, this.st(id) | FWD_EMITTED);
          }
          continue;
        }
        switch (k) {
          case KIND_INT:
            this.missingAliases(id);
            this.setEmit(id, EMITTED);
            frames.pop();
            break;
          case KIND_ENUM: case KIND_ENUM64:
            if (cont == 0) {
              this.enumDef(id, 0);
              this.lit(";\n\n");
            }
            this.setEmit(id, EMITTED);
            frames.pop();
            break;
          case KIND_PTR: case KIND_VOLATILE: case KIND_CONST: case KIND_RESTRICT: case KIND_TYPE_TAG:
            store<u32>(f, this.typeOf(id), FE_ID); // tail call with the same cont_id
            break;
          case KIND_ARRAY:
            store<u32>(f, this.arrayElem(id), FE_ID);
            break;
          case KIND_FWD:
            this.fwdDef(id);
            this.lit(";\n\n");
            this.setEmit(id, EMITTED);
            frames.pop();
            break;
          case KIND_TYPEDEF: {
            this.setEmit(id, EMITTING);
            store<u32>(f, E_TYPEDEF_AFTER, F_PC);
            const target = this.typeOf(id);
            if (this.isEmitted(target)) break; // the call would return at once
            const c = frames.push();
            store<u32>(c, target, FE_ID);
            store<u32>(c, id, FE_CONT);
            break;
          }
          case KIND_STRUCT: case KIND_UNION: {
            this.setEmit(id, EMITTING);
            const anon = this.nameOff(id) == 0;
            if (cont == 0 || anon) {
              store<u32>(f, E_STRUCT_LOOP, F_PC);
              store<u32>(f, 0, FE_INDEX);
              store<u32>(f, anon ? cont : id, FE_MEMBER_CONT);
            } else {
              if ((this.st(id) & FWD_EMITTED) == 0 && id != cont) {
                this.structFwd(id);
                this.lit(";\n\n");
                this.setSt(id, this.st(id) | FWD_EMITTED);
              }
              store<u32>(f, E_STRUCT_END, F_PC);
            }
            break;
          }
          case KIND_FUNC_PROTO:
            store<u32>(f, E_FP_LOOP, F_PC);
            store<u32>(f, 0, FE_INDEX);
            break;
          default:
            frames.pop();
        }
        continue;
      }
      if (pc == E_TYPEDEF_AFTER) {
        if ((this.st(id) & FWD_EMITTED) == 0 && !this.isBlacklisted(id)) {
          this.typedefDef(id, 0);
          this.lit(";\n\n");
        }
        this.setEmit(id, EMITTED);
        frames.pop();
        continue;
      }
      if (pc == E_STRUCT_LOOP) {
        // Members already emitted need no call.
        let i = load<u32>(f, FE_INDEX);
        const vlen = this.vlen(id);
        let mt: u32 = 0;
        while (i < vlen) {
          mt = load<u32>(this.member(id, i), 4);
          if (!this.isEmitted(mt)) break;
          i++;
        }
        if (i < vlen) {
          store<u32>(f, i + 1, FE_INDEX);
          const newCont = load<u32>(f, FE_MEMBER_CONT);
          const c = frames.push();
          store<u32>(c, mt, FE_ID);
          store<u32>(c, newCont, FE_CONT);
          continue;
        }
        store<u32>(f, E_STRUCT_END, F_PC);
        continue;
      }
      if (pc == E_STRUCT_END) {
        if (cont == 0) {
          this.printStructDef(id, 0);
          this.lit(";\n\n");
          this.setEmit(id, EMITTED);
        } else {
          this.setEmit(id, 0);
        }
        frames.pop();
        continue;
      }
      // E_FP_LOOP: the return type, then each parameter, all with our cont_id.
      let i = load<u32>(f, FE_INDEX);
      const vlen = this.vlen(id);
      let next: u32 = 0;
      while (i <= vlen) {
        next = i == 0 ? this.typeOf(id) : load<u32>(this.param(id, i - 1), 4);
        if (!this.isEmitted(next)) break;
        i++;
      }
      if (i <= vlen) {
        store<u32>(f, i + 1, FE_INDEX);
        const c = frames.push();
        store<u32>(c, next, FE_ID);
        store<u32>(c, cont, FE_CONT);
        continue;
      }
      frames.pop();
    }
  }

  /** btf_dump__dump_type. */
  dumpType(id: u32): bool {
    // An ordered type orders to nothing new (most ids of a full dump).
    if ((this.st(id) & ORD_MASK) == ORDERED) return true;
    this.queue.len = 0;
    if (!this.orderType(id)) return false;
    const q = this.queue;
    for (let i: u32 = 0; i < q.len; i++) {
      this.emitType(q.get(i));
      if (this.failed) return false;
    }
    if (this.outLen > this.outLimit) {
      this.fatal(Err.TOO_LARGE, id, WHY_TOO_LARGE);
      return false;
    }
    return true;
  }

  // ---- bpftool framing ----------------------------------------------------

  preamble(): void {
    this.lit(
      "#ifndef __VMLINUX_H__\n" +
      "#define __VMLINUX_H__\n" +
      "\n" +
      "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n" +
      "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n" +
      "#endif\n\n" +
      "#ifndef __ksym\n" +
      "#define __ksym __attribute__((section(\".ksyms\")))\n" +
      "#endif\n\n" +
      "#ifndef __weak\n" +
      "#define __weak __attribute__((weak))\n" +
      "#endif\n\n" +
      "#ifndef __bpf_fastcall\n" +
      "#if __has_attribute(bpf_fastcall)\n" +
      "#define __bpf_fastcall __attribute__((bpf_fastcall))\n" +
      "#else\n" +
      "#define __bpf_fastcall\n" +
      "#endif\n" +
      "#endif\n\n");
  }

  footer(): void {
    this.lit(
      "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n" +
      "#pragma clang attribute pop\n" +
      "#endif\n" +
      "\n" +
      "#endif /* __VMLINUX_H__ */\n");
  }

  /** bpftool dump_btf_kfuncs: prototypes of FUNCs tagged bpf_kfunc, by name. */
  kfuncs(): void {
    this.lit("\n/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n");
    const n = this.n;
    const kf = new U32Vec(64);
    const fastcall = heap.alloc(n);
    memory.fill(fastcall, 0, n);
    for (let id: u32 = 1; id < n; id++) {
      if (this.kind(id) != KIND_DECL_TAG) continue;
      if (load<i32>(this.rec(id) + COMMON_LEN) != -1) continue;
      const fid = this.typeOf(id);
      if (this.kind(fid) != KIND_FUNC) continue;
      const name = this.str(this.nameOff(id));
      if (cstrEqLit(name, "bpf_kfunc")) kf.push(fid);
      if (cstrEqLit(name, "bpf_fastcall")) store<u8>(fastcall + fid, 1);
    }
    kfuncTable = this.t;
    mergeSortU32(kf.ptr, kf.len, compareFuncNames); // stable: equal names keep id order
    for (let i: u32 = 0; i < kf.len && !this.failed; i++) {
      const fid = kf.get(i);
      this.lit("extern ");
      if (load<u8>(fastcall + fid) != 0) this.lit("__bpf_fastcall ");
      this.printDecl(this.typeOf(fid), this.str(this.nameOff(fid)), 0);
      this.lit(" __weak __ksym;\n");
    }
    this.lit("#endif\n\n");
    heap.free(fastcall);
    kf.free();
  }
}

let kfuncTable: TypeTable = changetype<TypeTable>(0);
function compareFuncNames(a: u32, b: u32): i32 {
  const t = kfuncTable;
  return cstrcmp(t.str(t.nameOff(a)), t.str(t.nameOff(b)));
}

/** C's roundup(x, y) for the padding arithmetic; y <= 0 (a type without alignment) leaves x. */
@inline function roundup(x: i32, y: i32): i32 {
  if (y <= 0) return x;
  return ((x + y - 1) / y) * y;
}

/**
 * Dump `btf` (with its base, for split BTF) as a C header into `out`.
 * `ptrSize` > 0 forces the pointer size; otherwise the BTF's own (from a
 * `long`), falling back to 8. `roots` (u32 ids, `nroots` of them) restrict
 * the dump to those types and what they need. Returns false with the error
 * recorded (the output is then incomplete).
 */
export function dumpC(btf: Btf, out: ByteSink, flags: u32, ptrSize: i32, roots: usize, nroots: u32): bool {
  let ps = ptrSize;
  if (ps <= 0) { ps = btf.ptrSize(); if (ps <= 0) ps = 8; }
  const t = TypeTable.create(btf);
  // A vmlinux header is about half the size of the type section.
  const d = new CDumper(btf, t, ps, nroots > 0 ? 1 << 16 : btf.typeLen / 2 + (1 << 16));
  const ok = run(d, flags, roots, nroots);
  if (ok) d.moveOut(out);
  d.free();
  t.free();
  return ok;
}

function run(d: CDumper, flags: u32, roots: usize, nroots: u32): bool {
  if (!d.markReferenced()) return false;
  const bare = (flags & CDUMP_BARE) != 0;
  if (!bare) d.preamble();
  const n = d.n;
  if (nroots > 0) {
    for (let i: u32 = 0; i < nroots; i++) {
      const id = load<u32>(roots + (<usize>i << 2));
      if (id >= n) return failBadRoot(id);
      if (!d.dumpType(id)) return false;
    }
  } else if ((flags & CDUMP_UNSORTED) != 0) {
    for (let id: u32 = 1; id < n; id++) if (!d.dumpType(id)) return false;
  } else {
    const ids = sortedIds(d.t);
    // bpftool starts at sorted position 1, assuming VOID sorts first (it does not).
    const first: u32 = (flags & CDUMP_BPFTOOL_COMPAT) != 0 ? 1 : 0;
    let ok = true;
    for (let i = first; i < n && ok; i++) ok = d.dumpType(load<u32>(ids + (<usize>i << 2)));
    heap.free(ids);
    if (!ok) return false;
  }
  if (nroots == 0 && !bare) {
    d.kfuncs();
    if (d.failed) return false;
  }
  if (!bare) d.footer();
  return true;
}

function failBadRoot(id: u32): bool {
  return fail(Err.BAD_TYPE_ID, -1, id, "type id " + id.toString() + " out of range");
}
