// Layout comparison for `check --strict`: does type `a` of one BTF have the
// same memory layout as type `b` of another? Size-only relocation (libbpf)
// accepts a struct whose size is unchanged even when a field moved or changed
// type; this walks both types member by member, recursively through
// embedded types (typedefs, modifiers, arrays, nested structs), and reports
// every difference with the member path. Pointers end the walk: what a
// pointer points to does not change the layout of the struct that holds it.
//
// Work is an explicit stack, and each (a, b) pair is compared once, so the
// walk is linear in the size of the two type graphs and input-controlled
// depth cannot overflow anything.

import { Btf } from "./btf";
import { ByteSink } from "./sink";
import {
  KIND_ARRAY, KIND_CONST, KIND_ENUM, KIND_ENUM64, KIND_FLOAT, KIND_FWD,
  KIND_INT, KIND_PTR, KIND_RESTRICT, KIND_STRUCT, KIND_TYPEDEF, KIND_TYPE_TAG,
  KIND_UNION, KIND_VOLATILE, MEMBER_LEN, T_INFO, infoKflag, kindName,
  memberBitOffset, memberBitfieldSize,
} from "./format";

/** Writes differences as JSON objects, comma-separated, into `out`. */
export class LayoutDiff {
  count: u32 = 0;
  private seen: Map<u64, bool> = new Map<u64, bool>();
  private stackA: u32[] = [];
  private stackB: u32[] = [];
  private stackPath: string[] = [];

  constructor(public A: Btf, public B: Btf, public out: ByteSink, public limit: u32 = 64) {}

  private diff(path: string, what: string, expected: string, found: string): void {
    if (this.count >= this.limit) { this.count++; return; }
    if (this.count > 0) this.out.byte(0x2c);
    this.count++;
    this.out.str("{\"path\":");
    jsonStr(this.out, path);
    this.out.str(",\"what\":");
    jsonStr(this.out, what);
    this.out.str(",\"expected\":");
    jsonStr(this.out, expected);
    this.out.str(",\"found\":");
    jsonStr(this.out, found);
    this.out.byte(0x7d);
  }

  private push(a: u32, b: u32, path: string): void {
    this.stackA.push(a);
    this.stackB.push(b);
    this.stackPath.push(path);
  }

  private nameA(id: u32): string { return cname(this.A, id); }
  private nameB(id: u32): string { return cname(this.B, id); }

  /** Compare a (in A) with b (in B); `root` names the starting type in paths. */
  compare(a: u32, b: u32, root: string): u32 {
    const start = this.count;
    this.push(a, b, root);
    while (this.stackA.length > 0) {
      const x = this.stackA.pop();
      const y = this.stackB.pop();
      const path = this.stackPath.pop();
      const key = (<u64>x << 32) | <u64>y;
      if (this.seen.has(key)) continue;
      this.seen.set(key, true);
      this.step(x, y, path);
    }
    return this.count - start;
  }

  private step(x: u32, y: u32, path: string): void {
    const A = this.A, B = this.B;
    const kx = A.kind(x), ky = B.kind(y);
    if (kx != ky) {
      this.diff(path, "kind", kindName(kx) + " " + this.nameA(x), kindName(ky) + " " + this.nameB(y));
      return;
    }
    switch (kx) {
      case 0: return; // void on both sides
      case KIND_STRUCT: case KIND_UNION: {
        const sa = A.sizeOrType(x), sb = B.sizeOrType(y);
        if (sa != sb) this.diff(path, "size", sa.toString(), sb.toString());
        const na = A.vlen(x), nb = B.vlen(y);
        const fa = infoKflag(load<u32>(A.rec(x), T_INFO)), fb = infoKflag(load<u32>(B.rec(y), T_INFO));
        const pa = A.extra(x), pb = B.extra(y);
        // Members are matched by name (anonymous ones by their order among the
        // anonymous), so a moved field shows as an offset change, not a rename.
        let anonB: u32 = 0;
        for (let i: u32 = 0; i < na; i++) {
          const ma = pa + <usize>i * MEMBER_LEN;
          const nameA = strOrAnon(A, load<u32>(ma));
          let j: u32 = nb;
          if (nameA.length == 0) {
            let k: u32 = 0;
            for (let t: u32 = 0; t < nb; t++) {
              if (load<u32>(pb + <usize>t * MEMBER_LEN) == 0 && k++ == anonB) { j = t; break; }
            }
            anonB++;
          } else {
            for (let t: u32 = 0; t < nb; t++) {
              if (strOrAnon(B, load<u32>(pb + <usize>t * MEMBER_LEN)) == nameA) { j = t; break; }
            }
          }
          const mpath = path + "." + (nameA.length ? nameA : "(anon)");
          if (j == nb) { this.diff(mpath, "member", "present", "missing"); continue; }
          const mb = pb + <usize>j * MEMBER_LEN;
          const ra = load<u32>(ma, 8), rb = load<u32>(mb, 8);
          const oa = memberBitOffset(ra, fa), ob = memberBitOffset(rb, fb);
          if (oa != ob) this.diff(mpath, "offset", bitsStr(oa), bitsStr(ob));
          const ba = memberBitfieldSize(ra, fa), bb = memberBitfieldSize(rb, fb);
          if (ba != bb) this.diff(mpath, "bitfield size", ba.toString(), bb.toString());
          this.push(load<u32>(ma, 4), load<u32>(mb, 4), mpath);
        }
        for (let t: u32 = 0; t < nb; t++) {
          const nameB = strOrAnon(B, load<u32>(pb + <usize>t * MEMBER_LEN));
          if (nameB.length == 0) continue;
          let found = false;
          for (let i: u32 = 0; i < na; i++) {
            if (strOrAnon(A, load<u32>(pa + <usize>i * MEMBER_LEN)) == nameB) { found = true; break; }
          }
          if (!found) this.diff(path + "." + nameB, "member", "missing", "present");
        }
        return;
      }
      case KIND_TYPEDEF: {
        const an = this.nameA(x), bn = this.nameB(y);
        if (an != bn) this.diff(path, "typedef", an, bn);
        this.push(A.sizeOrType(x), B.sizeOrType(y), path);
        return;
      }
      case KIND_CONST: case KIND_VOLATILE: case KIND_RESTRICT: case KIND_TYPE_TAG:
        this.push(A.sizeOrType(x), B.sizeOrType(y), path);
        return;
      case KIND_ARRAY: {
        const qa = A.extra(x), qb = B.extra(y);
        const ea = load<u32>(qa, 8), eb = load<u32>(qb, 8);
        if (ea != eb) this.diff(path, "array length", ea.toString(), eb.toString());
        this.push(load<u32>(qa), load<u32>(qb), path + "[]");
        return;
      }
      case KIND_INT: {
        const wa = load<u32>(A.extra(x)), wb = load<u32>(B.extra(y));
        const sa = A.sizeOrType(x), sb = B.sizeOrType(y);
        if (sa != sb || wa != wb) this.diff(path, "int", this.nameA(x) + " size " + sa.toString() + " enc " + wa.toString(16), this.nameB(y) + " size " + sb.toString() + " enc " + wb.toString(16));
        return;
      }
      case KIND_ENUM: case KIND_ENUM64: case KIND_FLOAT: {
        const sa = A.sizeOrType(x), sb = B.sizeOrType(y);
        if (sa != sb) this.diff(path, "size", sa.toString(), sb.toString());
        return;
      }
      case KIND_PTR:
        // Same size whatever the pointee; a different pointee name is worth a note only.
        {
          const ta = A.skipModsAndTypedefs(A.sizeOrType(x)), tb = B.skipModsAndTypedefs(B.sizeOrType(y));
          const ka = A.kind(ta), kb = B.kind(tb);
          const na = A.nameOff(ta) == 0 ? "" : cname(A, ta), nb = B.nameOff(tb) == 0 ? "" : cname(B, tb);
          if (ka != kb || na != nb) this.diff(path, "pointee", kindName(ka) + " " + na, kindName(kb) + " " + nb);
        }
        return;
      case KIND_FWD:
        return;
      default:
        return;
    }
  }
}

function bitsStr(bits: u32): string {
  return (bits & 7) == 0 ? "byte " + (bits >> 3).toString() : "bit " + bits.toString();
}

function cname(btf: Btf, id: u32): string {
  const off = btf.nameOff(id);
  if (off == 0) return "(anon)";
  const p = btf.str(off);
  let n = 0;
  while (load<u8>(p + n) != 0) n++;
  return String.UTF8.decodeUnsafe(p, n, false);
}

function strOrAnon(btf: Btf, off: u32): string {
  if (off == 0 || !btf.strValid(off)) return "";
  const p = btf.str(off);
  let n = 0;
  while (load<u8>(p + n) != 0) n++;
  return String.UTF8.decodeUnsafe(p, n, false);
}

function jsonStr(out: ByteSink, s: string): void {
  out.byte(0x22);
  for (let i = 0; i < s.length; i++) {
    const c = <u32>s.charCodeAt(i);
    if (c == 0x22 || c == 0x5c) { out.byte(0x5c); out.byte(c); }
    else if (c < 0x20) out.byte(0x3f);
    else if (c < 0x80) out.byte(c);
    else out.str(s.charAt(i));
  }
  out.byte(0x22);
}
