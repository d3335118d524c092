// The explorer's comparisons, run in the worker: "changes between A and B"
// (every keyed type added, removed or changed, with counts per kind) and one
// type "compared with" another document. Both are the library's diff() (the
// core's); this file only shapes its result into plain data for the page.

import { diff, Btf, BtfError, KIND_NAMES } from "../index.js";
import type { ChangedType, KindName } from "../index.js";

export type ChangeStatus = "added" | "removed" | "changed";

export interface ChangeItem {
  status: ChangeStatus;
  kind: string;
  name: string;
  /** The type to open: in B for added and changed keys, in A for removed ones. */
  id: number;
}

export interface KindCount { kind: string; added: number; removed: number; changed: number }

export interface ChangesReply {
  a: number;
  b: number;
  counts: KindCount[];
  total: { added: number; removed: number; changed: number; unchanged: number };
  items: ChangeItem[];
  ms: number;
}

const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());

/** Every key added, removed or changed from `a` (old) to `b` (new). */
export function changesBetween(a: Btf, b: Btf, docA: number, docB: number): ChangesReply {
  const t0 = now();
  const r = diff(a, b, { details: false });
  const items: ChangeItem[] = [];
  const counts = new Map<string, KindCount>();
  const count = (kind: string) => {
    let c = counts.get(kind);
    if (!c) counts.set(kind, (c = { kind, added: 0, removed: 0, changed: 0 }));
    return c;
  };
  for (const k of r.changed) { items.push({ status: "changed", kind: k.kind, name: k.name, id: k.newId }); count(k.kind).changed++; }
  for (const k of r.added) { items.push({ status: "added", kind: k.kind, name: k.name, id: k.id ?? 0 }); count(k.kind).added++; }
  for (const k of r.removed) { items.push({ status: "removed", kind: k.kind, name: k.name, id: k.id ?? 0 }); count(k.kind).removed++; }
  const order = (k: string) => KIND_NAMES.indexOf(k as KindName);
  return {
    a: docA,
    b: docB,
    counts: [...counts.values()].sort((x, y) => order(x.kind) - order(y.kind)),
    total: { added: r.added.length, removed: r.removed.length, changed: r.changed.length, unchanged: r.keys.unchanged },
    items,
    ms: now() - t0,
  };
}

export interface CompareSide { doc: number; id: number; size: number | null }

export interface CompareReply {
  kind: string;
  name: string;
  /** "same": one definition (set) on both sides; "only-old"/"only-new": the key exists on one side. */
  status: "same" | "changed" | "only-old" | "only-new";
  /** The type on each side (id 0 when absent). */
  old: CompareSide;
  new: CompareSide;
  /** For a changed type: what changed from old to new, with the whole layout of a struct or union. */
  change?: ChangedType;
}

const SPEC_WORD: Record<string, string> = { STRUCT: "struct", UNION: "union", ENUM: "enum", ENUM64: "enum64", TYPEDEF: "typedef", FUNC: "func", FWD: "fwd" };

/**
 * Type `id` of document `doc` against the type of the same kind and name in
 * document `other`; `otherIsOld` says which side is the old one.
 */
export function compareType(btf: Btf, doc: number, id: number, otherBtf: Btf, other: number, otherIsOld: boolean): CompareReply {
  if (!Number.isInteger(id) || id <= 0 || id >= btf.typeCount) throw new BtfError("BAD_TYPE_ID", `type id ${id} is not in 1..${btf.typeCount - 1}`, { typeId: id });
  const t = btf.type(id);
  const kind = KIND_NAMES[t.kind] ?? "UNKNOWN";
  const word = SPEC_WORD[kind];
  if (!word || !t.name) throw new BtfError("USAGE", `only named structs, unions, enums, typedefs, functions and forward declarations are compared (this is ${kind.toLowerCase()} ${t.name || "(anon)"})`);
  const [oldBtf, oldDoc, newBtf, newDoc] = otherIsOld ? [otherBtf, other, btf, doc] : [btf, doc, otherBtf, other];
  const r = diff(oldBtf, newBtf, { types: [`${word} ${t.name}`] });
  const side = (b: Btf, d: number, i: number): CompareSide => ({ doc: d, id: i, size: i > 0 ? b.type(i).size ?? null : null });
  const own = (b: Btf) => b.find(t.name, kind as KindName).find((i) => i >= b.startId) ?? 0;
  const base = { kind, name: t.name };
  if (r.removed.length) return { ...base, status: "only-old", old: side(oldBtf, oldDoc, r.removed[0].id ?? 0), new: side(newBtf, newDoc, 0) };
  if (r.added.length) return { ...base, status: "only-new", old: side(oldBtf, oldDoc, 0), new: side(newBtf, newDoc, r.added[0].id ?? 0) };
  if (!r.changed.length) return { ...base, status: "same", old: side(oldBtf, oldDoc, own(oldBtf)), new: side(newBtf, newDoc, own(newBtf)) };
  const c = r.changed[0];
  return { ...base, status: "changed", old: side(oldBtf, oldDoc, c.oldId), new: side(newBtf, newDoc, c.newId), change: c };
}
