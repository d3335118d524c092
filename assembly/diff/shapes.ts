// Shapes for `btfkit diff` (issue 15's definition), hash-consed: every shape
// is a node in one table shared by all the BTFs of a diff, interned by exact
// content, so two types have the same shape exactly when they get the same
// node id. Equality is decided by comparing node contents (child node ids as
// integers, names by their bytes), never by a hash alone: no false "same".
//
// A type's shape follows no names: a named STRUCT/UNION/ENUM/ENUM64/FWD/
// TYPEDEF (or any other named kind reached by reference) is the leaf
// (kind, name); an anonymous STRUCT/UNION is its layout inline, an anonymous
// enum its values inline; PTR/CONST/VOLATILE/RESTRICT/TYPE_TAG wrap their
// target (a TYPE_TAG with its tag); ARRAY is (count, element); INT and FLOAT
// are (name, size); FUNC_PROTO is (return, [(param name, shape)]); void is
// void. Shapes are built bottom-up with an explicit stack; a reference cycle
// that does not pass through a name (only hostile BTF has one) ends in a
// CYCLE leaf.

import { Btf } from "../btf";
import { U32Vec } from "../vec";
import { U32Map } from "../u32map";
import { cstrHash, cstreq } from "../bytes";
import {
  KIND_ARRAY, KIND_CONST, KIND_ENUM, KIND_ENUM64, KIND_FLOAT, KIND_FUNC, KIND_FUNC_PROTO,
  KIND_FWD, KIND_INT, KIND_PTR, KIND_RESTRICT, KIND_STRUCT, KIND_TYPE_TAG, KIND_TYPEDEF,
  KIND_UNION, KIND_VOLATILE, MEMBER_LEN, PARAM_LEN, ENUM_LEN, ENUM64_LEN, T_INFO, T_NAME,
  infoKflag, memberBitOffset, memberBitfieldSize,
} from "../format";

// Node tags. A node's payload words follow the tag; the comments say which
// words are names (addresses of NUL-terminated strings, 0 = none).
export const S_VOID: u32 = 0; //      []
export const S_NAMED: u32 = 1; //     [kind, name*]                  a name reached by reference; also the diff key
export const S_SCALAR: u32 = 2; //    [kind, name*, size]            INT, FLOAT
export const S_WRAP: u32 = 3; //      [kind, tag*|0, target]         PTR, CONST, VOLATILE, RESTRICT, TYPE_TAG
export const S_ARRAY: u32 = 4; //     [count, element]
export const S_LAYOUT: u32 = 5; //    [kind, size, n, (name*, bit offset, bitfield size, shape) x n]
export const S_ENUM: u32 = 6; //      [size, signed, n, (name*, lo, hi) x n]   values as 64-bit (sign-extended when signed)
export const S_PROTO: u32 = 7; //     [return, n, (name*, shape) x n]
export const S_CYCLE: u32 = 8; //     []
export const S_ODD_FUNC: u32 = 9; //  [linkage, prototype]          a FUNC own shape with linkage > 3

/** memo states (real node ids are below these). */
const UNSET: u32 = 0xffffffff;
const BUSY: u32 = 0xfffffffe;

/** Is payload word `i` of a node with this tag a name? */
@inline function isNameWord(tag: u32, i: u32): bool {
  switch (tag) {
    case S_NAMED: case S_SCALAR: case S_WRAP: return i == 1;
    case S_LAYOUT: return i >= 3 && ((i - 3) & 3) == 0;
    case S_ENUM: return i >= 3 && (i - 3) % 3 == 0;
    case S_PROTO: return i >= 2 && ((i - 2) & 1) == 0;
    default: return false;
  }
}

@inline function mix(h: u32, w: u32): u32 {
  h ^= w;
  h *= 0x01000193;
  return h ^ (h >> 15);
}

/**
 * The shape table: nodes stored back to back in `words` as
 * [hash, next, tag, len, payload x len]; `offs` maps node id -> word index;
 * `heads` maps a hash to the newest node with it, `next` chains the others.
 */
export class ShapeTable {
  words: U32Vec;
  offs: U32Vec;
  heads: U32Map;
  /** The node being built: [tag, payload...]. */
  cur: U32Vec = new U32Vec(256);
  voidId: u32 = 0;
  cycleId: u32 = 0;

  /** `expected`: about how many nodes (a kernel gives one per type, plus its own shapes). */
  constructor(expected: u32) {
    // Sized up front: growing the hash table a dozen times costs as much as the diff.
    this.words = new U32Vec(expected * 8);
    this.offs = new U32Vec(expected);
    this.heads = new U32Map(expected);
    this.begin(S_VOID);
    this.voidId = this.intern();
    this.begin(S_CYCLE);
    this.cycleId = this.intern();
  }

  @inline get count(): u32 { return this.offs.len; }

  /** Hash of `cur` so far, mixed in as words are put (names by their bytes). */
  curHash: u32 = 0;

  @inline begin(tag: u32): void { this.cur.len = 0; this.cur.push(tag); this.curHash = mix(0x811c9dc5, tag); }
  @inline put(w: u32): void { this.cur.push(w); this.curHash = mix(this.curHash, w); }
  /** A name word: the address of a NUL-terminated string (0: none), hashed by content. */
  @inline putName(p: usize): void { this.cur.push(<u32>p); this.curHash = mix(this.curHash, p == 0 ? 0 : cstrHash(p)); }

  /** Address of node `id`'s first payload word. */
  @inline payload(id: u32): usize { return this.words.ptr + ((<usize>this.offs.get(id) + 4) << 2); }
  @inline tag(id: u32): u32 { return load<u32>(this.words.ptr + ((<usize>this.offs.get(id) + 2) << 2)); }
  @inline len(id: u32): u32 { return load<u32>(this.words.ptr + ((<usize>this.offs.get(id) + 3) << 2)); }

  /** The node id of the node in `cur`, adding it when it is new. */
  intern(): u32 {
    const cur = this.cur;
    const tag = cur.get(0);
    const n = cur.len - 1;
    let h = mix(this.curHash, n);
    if (h == 0xffffffff) h = 0xfffffffe; // U32Map's empty key
    const head = this.heads.get(h, UNSET);
    let id = head;
    while (id != UNSET) {
      if (this.sameAsCur(id, tag, n)) return id;
      id = load<u32>(this.words.ptr + ((<usize>this.offs.get(id) + 1) << 2));
    }
    id = this.offs.len;
    const w = this.words;
    this.offs.push(w.len);
    w.push(h);
    w.push(head);
    w.push(tag);
    w.push(n);
    for (let i: u32 = 0; i < n; i++) w.push(load<u32>(cur.ptr + (<usize>(i + 1) << 2)));
    this.heads.set(h, id);
    return id;
  }

  private sameAsCur(id: u32, tag: u32, n: u32): bool {
    if (this.tag(id) != tag || this.len(id) != n) return false;
    const p = this.payload(id);
    const q = this.cur.ptr + 4;
    for (let i: u32 = 0; i < n; i++) {
      const a = load<u32>(p + (<usize>i << 2));
      const b = load<u32>(q + (<usize>i << 2));
      if (a == b) continue;
      if (!isNameWord(tag, i) || a == 0 || b == 0 || !cstreq(<usize>a, <usize>b)) return false;
    }
    return true;
  }

  free(): void {
    this.words.free();
    this.offs.free();
    this.heads.dispose();
    this.cur.free();
  }
}

/** An empty name reads as "no name" (libbpf treats name_off 0 so). */
@inline function named(b: Btf, id: u32): bool {
  const off = load<u32>(b.rec(id), T_NAME);
  return off != 0 && load<u8>(b.str(off)) != 0;
}

/** Is the shape of this type the leaf (kind, name)? */
@inline function isLeafByName(kind: u32, hasName: bool): bool {
  switch (kind) {
    case KIND_INT: case KIND_FLOAT: case KIND_PTR: case KIND_CONST: case KIND_VOLATILE:
    case KIND_RESTRICT: case KIND_TYPE_TAG: case KIND_ARRAY: case KIND_FUNC_PROTO:
      return false;
    case KIND_STRUCT: case KIND_UNION: case KIND_ENUM: case KIND_ENUM64:
      return hasName;
    default:
      return true; // TYPEDEF, FWD, FUNC, VAR, DATASEC, DECL_TAG, unknown: by name
  }
}

/**
 * One BTF's shapes: `memo[id]` is the shape node of type `id` once computed
 * (ids over the whole chain, base included: a module's types reach into it).
 */
export class ShapeSide {
  memo: usize;
  cnt: u32;
  stack: U32Vec = new U32Vec(64);

  constructor(public btf: Btf, public table: ShapeTable) {
    this.cnt = btf.typeCnt();
    this.memo = heap.alloc(<usize>this.cnt << 2);
    memory.fill(this.memo, 0xff, <usize>this.cnt << 2);
  }

  @inline private memoOf(id: u32): u32 { return load<u32>(this.memo + (<usize>id << 2)); }
  @inline private setMemo(id: u32, v: u32): void { store<u32>(this.memo + (<usize>id << 2), v); }

  /** A child's node while building its parent: a busy child closes a cycle. */
  @inline private child(id: u32): u32 {
    const m = this.memoOf(id);
    return m == BUSY ? this.table.cycleId : m;
  }

  /** The shape node of type `root`. */
  shapeOf(root: u32): u32 {
    const done = this.memoOf(root);
    if (done < BUSY) return done;
    const st = this.stack;
    st.len = 0;
    st.push(root);
    const b = this.btf;
    while (st.len > 0) {
      const t = st.get(st.len - 1);
      const m = this.memoOf(t);
      if (m < BUSY) { st.len--; continue; }
      if (m == UNSET) {
        this.setMemo(t, BUSY);
        const before = st.len;
        this.pushChildren(b, t);
        if (st.len != before) continue;
      }
      this.setMemo(t, this.build(b, t));
      st.len--;
    }
    return this.memoOf(root);
  }

  /** Push the unvisited types `t`'s shape is built from. */
  private pushChildren(b: Btf, t: u32): void {
    if (t == 0) return;
    const p = b.rec(t);
    const o = b.owner(t);
    const kind = o.recKind(p);
    if (isLeafByName(kind, named(b, t))) return;
    switch (kind) {
      case KIND_PTR: case KIND_CONST: case KIND_VOLATILE: case KIND_RESTRICT: case KIND_TYPE_TAG:
        this.want(load<u32>(p, 8));
        return;
      case KIND_ARRAY:
        this.want(load<u32>(p, 12));
        return;
      case KIND_STRUCT: case KIND_UNION: {
        const n = o.recVlen(p);
        for (let i: u32 = 0; i < n; i++) this.want(load<u32>(p + 12 + <usize>i * MEMBER_LEN, 4));
        return;
      }
      case KIND_FUNC_PROTO: {
        this.want(load<u32>(p, 8));
        const n = o.recVlen(p);
        for (let i: u32 = 0; i < n; i++) this.want(load<u32>(p + 12 + <usize>i * PARAM_LEN, 4));
        return;
      }
      default: return;
    }
  }

  @inline private want(id: u32): void {
    if (id < this.cnt && this.memoOf(id) == UNSET) this.stack.push(id);
  }

  /** Build and intern the shape of `t` (its children are done). */
  private build(b: Btf, t: u32): u32 {
    const tab = this.table;
    if (t == 0) return tab.voidId;
    const p = b.rec(t);
    const o = b.owner(t);
    const kind = o.recKind(p);
    const nameOff = load<u32>(p, T_NAME);
    if (isLeafByName(kind, named(b, t))) {
      tab.begin(S_NAMED);
      tab.put(kind);
      tab.putName(b.str(nameOff));
      return tab.intern();
    }
    switch (kind) {
      case KIND_INT: case KIND_FLOAT:
        tab.begin(S_SCALAR);
        tab.put(kind);
        tab.putName(b.str(nameOff));
        tab.put(load<u32>(p, 8));
        return tab.intern();
      case KIND_PTR: case KIND_CONST: case KIND_VOLATILE: case KIND_RESTRICT: case KIND_TYPE_TAG:
        tab.begin(S_WRAP);
        tab.put(kind);
        tab.putName(kind == KIND_TYPE_TAG ? b.str(nameOff) : 0);
        tab.put(this.refChild(load<u32>(p, 8)));
        return tab.intern();
      case KIND_ARRAY:
        tab.begin(S_ARRAY);
        tab.put(load<u32>(p, 20));
        tab.put(this.refChild(load<u32>(p, 12)));
        return tab.intern();
      case KIND_STRUCT: case KIND_UNION:
        return this.layout(t);
      case KIND_ENUM: case KIND_ENUM64:
        return this.enumShape(t);
      case KIND_FUNC_PROTO: {
        const n = o.recVlen(p);
        tab.begin(S_PROTO);
        tab.put(this.refChild(load<u32>(p, 8)));
        tab.put(n);
        for (let i: u32 = 0; i < n; i++) {
          const q = p + 12 + <usize>i * PARAM_LEN;
          tab.putName(b.str(load<u32>(q)));
          tab.put(this.refChild(load<u32>(q, 4)));
        }
        return tab.intern();
      }
      default:
        return tab.voidId; // not reached: every other kind is a leaf by name
    }
  }

  /** A referenced id's node; ids past the end (never in validated BTF) read as void. */
  @inline private refChild(id: u32): u32 {
    return id < this.cnt ? this.child(id) : this.table.voidId;
  }

  /** STRUCT/UNION layout node; member shapes must be computed. */
  layout(t: u32): u32 {
    const b = this.btf;
    const tab = this.table;
    const p = b.rec(t);
    const o = b.owner(t);
    const kind = o.recKind(p);
    const kflag = infoKflag(load<u32>(p, T_INFO));
    const n = o.recVlen(p);
    tab.begin(S_LAYOUT);
    tab.put(kind);
    tab.put(load<u32>(p, 8));
    tab.put(n);
    for (let i: u32 = 0; i < n; i++) {
      const q = p + 12 + <usize>i * MEMBER_LEN;
      const raw = load<u32>(q, 8);
      tab.putName(b.str(load<u32>(q)));
      tab.put(memberBitOffset(raw, kflag));
      tab.put(memberBitfieldSize(raw, kflag));
      tab.put(this.refChild(load<u32>(q, 4)));
    }
    return tab.intern();
  }

  /** ENUM/ENUM64 node: size, signedness, (name, 64-bit value) list. */
  enumShape(t: u32): u32 {
    const b = this.btf;
    const tab = this.table;
    const p = b.rec(t);
    const o = b.owner(t);
    const kind = o.recKind(p);
    const signed = infoKflag(load<u32>(p, T_INFO));
    const n = o.recVlen(p);
    tab.begin(S_ENUM);
    tab.put(load<u32>(p, 8));
    tab.put(signed ? 1 : 0);
    tab.put(n);
    for (let i: u32 = 0; i < n; i++) {
      if (kind == KIND_ENUM) {
        const q = p + 12 + <usize>i * ENUM_LEN;
        const v = load<u32>(q, 4);
        tab.putName(b.str(load<u32>(q)));
        tab.put(v);
        tab.put(signed && (v >> 31) != 0 ? 0xffffffff : 0);
      } else {
        const q = p + 12 + <usize>i * ENUM64_LEN;
        tab.putName(b.str(load<u32>(q)));
        tab.put(load<u32>(q, 4));
        tab.put(load<u32>(q, 8));
      }
    }
    return tab.intern();
  }

  /**
   * The own shape of keyed type `t` (issue 15), as a word that is equal for
   * two types of the same key exactly when their own shapes are: STRUCT/UNION
   * its layout node, ENUM/ENUM64 its values node, TYPEDEF its target's shape
   * node, FUNC (prototype node << 2 | linkage), FWD 1 for union, 0 for struct.
   */
  ownShape(t: u32): u32 {
    const b = this.btf;
    const tab = this.table;
    const p = b.rec(t);
    const o = b.owner(t);
    const kind = o.recKind(p);
    switch (kind) {
      case KIND_STRUCT: case KIND_UNION: {
        const n = o.recVlen(p);
        for (let i: u32 = 0; i < n; i++) {
          const m = load<u32>(p + 12 + <usize>i * MEMBER_LEN, 4);
          if (m < this.cnt) this.shapeOf(m);
        }
        return this.layout(t);
      }
      case KIND_ENUM: case KIND_ENUM64:
        return this.enumShape(t);
      case KIND_TYPEDEF: {
        const target = load<u32>(p, 8);
        return target < this.cnt ? this.shapeOf(target) : tab.voidId;
      }
      // Own shapes are only compared under one key, so a FUNC's and a FWD's
      // need no node of their own: (prototype node, linkage) packed in a
      // word, and the union flag. A kernel has ~50k FUNCs: a table probe each saved.
      case KIND_FUNC: {
        const proto = load<u32>(p, 8);
        const ps = proto < this.cnt ? this.shapeOf(proto) : tab.voidId;
        const linkage = o.recVlen(p);
        if (linkage <= 3) return (ps << 2) | linkage;
        // A linkage no toolchain writes: a node of its own keeps it exact.
        tab.begin(S_ODD_FUNC);
        tab.put(linkage);
        tab.put(ps);
        return (tab.intern() << 2) | 3;
      }
      case KIND_FWD:
        return infoKflag(load<u32>(p, T_INFO)) ? 1 : 0;
      default:
        return tab.voidId;
    }
  }

  /** The shape node computed for `id`, or UNSET. */
  @inline known(id: u32): u32 { return id < this.cnt ? this.memoOf(id) : UNSET; }

  free(): void {
    heap.free(this.memo);
    this.stack.free();
  }
}

/** Is `kind` keyed when named (issue 15)? */
@inline export function isKeyedKind(kind: u32): bool {
  return kind == KIND_STRUCT || kind == KIND_UNION || kind == KIND_ENUM || kind == KIND_ENUM64 ||
    kind == KIND_TYPEDEF || kind == KIND_FUNC || kind == KIND_FWD;
}

/** Is type `id` of `b` keyed: a keyed kind with a non-empty name? */
export function isKeyed(b: Btf, id: u32): bool {
  const p = b.rec(id);
  return isKeyedKind(b.owner(id).recKind(p)) && named(b, id);
}
