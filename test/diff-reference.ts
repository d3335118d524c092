// A deliberately naive reference for issue 15's diff definition, written from
// the issue's text alone and independent of the core: shapes as strings,
// built recursively through the public TypeView, own shapes per key as sets.
// Tests compare the core's added/removed/changed with it on built BTF and on
// real kernels. Recursion depth here is the nesting of anonymous types, which
// is small in every input the tests give it.

import type { Btf } from "../src/index.js";
import { KIND_NAMES } from "../src/generated/kinds.js";

const K = { INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, FLOAT: 16, TYPE_TAG: 18, ENUM64: 19 };
const KEYED = new Set([K.STRUCT, K.UNION, K.ENUM, K.ENUM64, K.TYPEDEF, K.FUNC, K.FWD]);
const NAMES: readonly string[] = KIND_NAMES;

class Shapes {
  memo = new Map<number, string>();
  busy = new Set<number>();
  constructor(readonly btf: Btf) {}

  shape(id: number): string {
    if (id === 0) return "void";
    const m = this.memo.get(id);
    if (m !== undefined) return m;
    if (this.busy.has(id)) return "cycle";
    this.busy.add(id);
    const s = this.compute(id);
    this.busy.delete(id);
    this.memo.set(id, s);
    return s;
  }

  private compute(id: number): string {
    const t = this.btf.type(id);
    const k = t.kind, name = t.name;
    switch (k) {
      case K.INT: case K.FLOAT: return `scalar(${k},${JSON.stringify(name)},${t.size})`;
      case K.PTR: case K.CONST: case K.VOLATILE: case K.RESTRICT: return `wrap(${k},${this.shape(t.sizeOrType)})`;
      case K.TYPE_TAG: return `tag(${JSON.stringify(name)},${this.shape(t.sizeOrType)})`;
      case K.ARRAY: { const a = t.array!; return `array(${a.nelems},${this.shape(a.type)})`; }
      case K.FUNC_PROTO: return `proto(${this.shape(t.sizeOrType)};${t.params.map((p) => `${JSON.stringify(p.name)}:${this.shape(p.type)}`).join(",")})`;
      case K.STRUCT: case K.UNION: return name ? `named(${k},${JSON.stringify(name)})` : this.layout(id);
      case K.ENUM: case K.ENUM64: return name ? `named(${k},${JSON.stringify(name)})` : this.values(id);
      default: return `named(${k},${JSON.stringify(name)})`;
    }
  }

  layout(id: number): string {
    const t = this.btf.type(id);
    return `layout(${t.kind},${t.size};${t.members.map((m) => `${JSON.stringify(m.name)}@${m.bitOffset}/${m.bitfieldSize}:${this.shape(m.type)}`).join(",")})`;
  }

  values(id: number): string {
    const t = this.btf.type(id);
    return `enum(${t.size},${t.kflag ? "s" : "u"};${t.values.map((v) => `${JSON.stringify(v.name)}=${v.value}`).join(",")})`;
  }

  own(id: number): string {
    const t = this.btf.type(id);
    switch (t.kind) {
      case K.STRUCT: case K.UNION: return this.layout(id);
      case K.ENUM: case K.ENUM64: return this.values(id);
      case K.TYPEDEF: return this.shape(t.sizeOrType);
      case K.FUNC: return `func(${t.vlen},${this.shape(t.sizeOrType)})`;
      case K.FWD: return `fwd(${t.kflag ? "union" : "struct"})`;
      default: throw new Error("not keyed");
    }
  }
}

/** key "KIND name" -> the set of own shapes, over the BTF's own types. */
export function ownShapeSets(btf: Btf): Map<string, Set<string>> {
  const s = new Shapes(btf);
  const out = new Map<string, Set<string>>();
  for (let id = btf.startId; id < btf.typeCount; id++) {
    const t = btf.type(id);
    if (!KEYED.has(t.kind) || !t.name) continue;
    const key = `${NAMES[t.kind]} ${t.name}`;
    let set = out.get(key);
    if (!set) out.set(key, (set = new Set()));
    set.add(s.own(id));
  }
  return out;
}

export interface ReferenceDiff { added: string[]; removed: string[]; changed: string[] }

/** Keys ("STRUCT sock") added, removed and changed, each sorted. */
export function referenceDiff(oldBtf: Btf, newBtf: Btf): ReferenceDiff {
  const a = ownShapeSets(oldBtf), b = ownShapeSets(newBtf);
  const added: string[] = [], removed: string[] = [], changed: string[] = [];
  for (const [k, sa] of a) {
    const sb = b.get(k);
    if (!sb) removed.push(k);
    else if (sa.size !== sb.size || [...sa].some((x) => !sb.has(x))) changed.push(k);
  }
  for (const k of b.keys()) if (!a.has(k)) added.push(k);
  return { added: added.sort(), removed: removed.sort(), changed: changed.sort() };
}

/** The core's result in the reference's form. */
export function keysOf(r: { added: { kind: string; name: string }[]; removed: { kind: string; name: string }[]; changed: { kind: string; name: string }[] }): ReferenceDiff {
  const f = (l: { kind: string; name: string }[]) => l.map((k) => `${k.kind} ${k.name}`).sort();
  return { added: f(r.added), removed: f(r.removed), changed: f(r.changed) };
}
