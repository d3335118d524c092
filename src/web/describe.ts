// What the explorer shows about one type, computed in the worker from the
// public TypeView: members with resolved sizes, the bit layout with holes,
// enumerators, parameters, and a short type label for links. Everything here
// is per opened type (bounded by one record's vlen), never per table.

import { Btf, KIND as K, KIND_NAMES } from "../btf.js";
import type { MemberRow, Segment } from "./protocol.js";


/** Longest modifier/pointer/array chain a label follows before giving up. */
const MAX_CHAIN = 32;

/**
 * A one-line C-ish name for a type, for links and tables ("struct sk_buff *",
 * "char const *", "u8[16]"). Follows the chain iteratively; qualifiers are
 * written after what they qualify, so pointer constness reads right. Not the
 * C dump: that is the core's (Btf#dumpC) when it is there.
 */
export function typeLabel(btf: Btf, id: number): string {
  let post = "";
  let cur = id;
  for (let step = 0; step < MAX_CHAIN; step++) {
    if (cur === 0) return "void" + post;
    if (cur < 0 || cur >= btf.typeCount) return `<bad id ${cur}>` + post;
    const t = btf.type(cur);
    const name = t.name;
    switch (t.kind) {
      case K.INT: case K.FLOAT: case K.TYPEDEF: case K.FUNC: case K.VAR: case K.DATASEC:
        return (name || "(anon)") + post;
      case K.STRUCT: return `struct ${name || "(anon)"}${post}`;
      case K.UNION: return `union ${name || "(anon)"}${post}`;
      case K.ENUM: case K.ENUM64: return `enum ${name || "(anon)"}${post}`;
      case K.FWD: return `${t.kflag ? "union" : "struct"} ${name}${post}`;
      case K.FUNC_PROTO: return `fn(${t.vlen} arg${t.vlen === 1 ? "" : "s"})${post}`;
      case K.PTR: post = " *" + post; cur = t.sizeOrType; break;
      case K.CONST: post = " const" + post; cur = t.sizeOrType; break;
      case K.VOLATILE: post = " volatile" + post; cur = t.sizeOrType; break;
      case K.RESTRICT: post = " restrict" + post; cur = t.sizeOrType; break;
      case K.TYPE_TAG: post = ` __tag(${name})` + post; cur = t.sizeOrType; break;
      case K.DECL_TAG: return `tag ${name}`;
      case K.ARRAY: { const a = t.array!; post = `${post}[${a.nelems}]`; cur = a.type; break; }
      default: return `${t.kindName.toLowerCase()} ${name}`.trim() + post;
    }
  }
  return "…" + post;
}

/** Members (or a DATASEC's variables) with their types' sizes. */
export function memberRows(btf: Btf, id: number): MemberRow[] {
  const t = btf.type(id);
  if (t.kind === K.STRUCT || t.kind === K.UNION) {
    return t.members.map((m) => ({
      name: m.name,
      type: m.type,
      typeLabel: typeLabel(btf, m.type),
      bitOffset: m.bitOffset,
      bitSize: m.bitfieldSize,
      byteSize: m.type < btf.typeCount ? btf.type(m.type).resolvedSize : -1,
    }));
  }
  if (t.kind === K.DATASEC) {
    return t.vars.map((v) => ({
      name: v.type < btf.typeCount ? btf.type(v.type).name : "",
      type: v.type,
      typeLabel: v.type < btf.typeCount ? typeLabel(btf, btf.type(v.type).sizeOrType) : "?",
      bitOffset: v.offset * 8,
      bitSize: 0,
      byteSize: v.size,
    }));
  }
  return [];
}

/**
 * The bit layout: members in offset order with the holes between them and the
 * tail padding (pahole's view). Union members all start at 0 and overlap.
 */
export function layoutSegments(kind: number, sizeBytes: number, rows: MemberRow[]): Segment[] {
  const segs: Segment[] = [];
  const bitsOf = (r: MemberRow) => (r.bitSize > 0 ? r.bitSize : Math.max(0, r.byteSize) * 8);
  if (kind === K.UNION) {
    rows.forEach((r, i) => segs.push({ kind: "member", startBit: 0, bits: bitsOf(r), member: i }));
    return segs;
  }
  const order = rows.map((_, i) => i).sort((a, b) => rows[a].bitOffset - rows[b].bitOffset || a - b);
  let cursor = 0;
  for (const i of order) {
    const r = rows[i];
    if (r.bitOffset > cursor) segs.push({ kind: "hole", startBit: cursor, bits: r.bitOffset - cursor });
    const bits = bitsOf(r);
    segs.push({ kind: "member", startBit: r.bitOffset, bits, member: i });
    cursor = Math.max(cursor, r.bitOffset + bits);
  }
  if (kind === K.STRUCT && sizeBytes * 8 > cursor) segs.push({ kind: "pad", startBit: cursor, bits: sizeBytes * 8 - cursor });
  return segs;
}

export function kindName(k: number): string { return KIND_NAMES[k] ?? `KIND_${k}`; }
