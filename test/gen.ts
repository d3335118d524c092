// Generators of valid BTF for property tests (dedup, round trips, dumps,
// distill/relocate): raw blobs built from integer tuples, so fast-check can
// shrink them. Every kind is produced; see buildBtf.
import fc from "fast-check";
import type { Btf } from "../src/index.js";

import { KIND } from "../src/generated/kinds.js";
export { KIND };

export const NAMES = ["", "a", "b", "foo", "bar", "int", "long"];

interface Gen { words: number[] }

/** Serialise records (already numbered, strings as NAMES indices resolved) into a raw blob. */
export function encode(types: number[][], strs: string[], base?: Btf): Uint8Array {
  const enc = new TextEncoder();
  const strBytes: number[] = base ? [] : [0];
  const offs = new Map<string, number>();
  const startOff = base ? base.startStrOff + base.header.strLen : 0;
  if (!base) offs.set("", 0);
  for (const s of strs) {
    // "" is written out when asked for (an empty string at a non-zero offset).
    if (s !== "" && offs.has(s)) continue;
    if (!offs.has(s)) offs.set(s, startOff + strBytes.length);
    strBytes.push(...enc.encode(s), 0);
  }
  const words: number[] = [];
  for (const t of types) for (const w of t) words.push(w);
  const typeLen = words.length * 4;
  const buf = new Uint8Array(24 + typeLen + strBytes.length);
  const dv = new DataView(buf.buffer);
  dv.setUint16(0, 0xeb9f, true); buf[2] = 1;
  dv.setUint32(4, 24, true); dv.setUint32(8, 0, true); dv.setUint32(12, typeLen, true);
  dv.setUint32(16, typeLen, true); dv.setUint32(20, strBytes.length, true);
  words.forEach((w, i) => dv.setUint32(24 + 4 * i, w >>> 0, true));
  buf.set(strBytes, 24 + typeLen);
  return buf;
}

/**
 * A valid BTF from a list of integer tuples. Reference kinds (and TYPEDEF)
 * point only at lower ids, so no reference chain loops; struct/union
 * members may point anywhere, making cycles through structs. Nothing but a
 * DATASEC or DECL_TAG points at VAR/DATASEC/DECL_TAG (libbpf's dedup
 * refuses those inside type graphs). Names come from a small pool so that
 * hashes collide and dedup has work to do.
 */
export function buildBtf(specs: number[][]): Uint8Array {
  const n = specs.length;
  const kinds: number[] = [0];
  const types: number[][] = [];
  const strs = NAMES;
  // Names are offsets into "\0" + NAMES joined, matching encode()'s layout.
  const nameOff: number[] = [];
  let o = 1;
  for (const s of NAMES) { nameOff.push(s === "" ? 0 : o); if (s !== "") o += s.length + 1; }
  const nm = (r: number) => nameOff[r % NAMES.length];
  const kindList = [KIND.INT, KIND.PTR, KIND.ARRAY, KIND.STRUCT, KIND.UNION, KIND.ENUM, KIND.FWD, KIND.TYPEDEF,
    KIND.VOLATILE, KIND.CONST, KIND.RESTRICT, KIND.FUNC, KIND.FUNC_PROTO, KIND.VAR, KIND.DATASEC, KIND.FLOAT,
    KIND.DECL_TAG, KIND.TYPE_TAG, KIND.ENUM64, KIND.STRUCT, KIND.PTR, KIND.CONST];
  const graphSafe = (id: number) => { const k = kinds[id]; return k !== KIND.VAR && k !== KIND.DATASEC && k !== KIND.DECL_TAG; };
  // Kinds first (members may reference later ids and must know their kinds).
  for (let i = 0; i < n; i++) kinds.push(kindList[specs[i][0] % kindList.length]);
  const lower = (i: number, r: number) => { const id = r % (i + 1); return graphSafe(id) ? id : 0; };
  const any = (r: number) => { const id = r % (n + 1); return graphSafe(id) ? id : 0; };
  const info = (k: number, vlen: number, kflag = false) => ((k << 24) | vlen | (kflag ? 0x80000000 : 0)) >>> 0;
  for (let i = 0; i < n; i++) {
    const id = i + 1;
    const [, r1, r2, r3, r4, r5, r6, r7] = specs[i];
    let k = kinds[id];
    if (k === KIND.FUNC) {
      const protos = kinds.slice(1, id).map((kk, j) => (kk === KIND.FUNC_PROTO ? j + 1 : 0)).filter(Boolean);
      if (protos.length === 0) k = kinds[id] = KIND.INT;
      else { types.push([nm(r1), info(k, r3 % 3), protos[r2 % protos.length]]); continue; }
    }
    if (k === KIND.DATASEC) {
      const vars = kinds.slice(1, id).map((kk, j) => (kk === KIND.VAR ? j + 1 : 0)).filter(Boolean);
      const vlen = vars.length ? r3 % 3 : 0;
      const t = [nm(r1), info(k, vlen), 8 * vlen];
      for (let e = 0; e < vlen; e++) t.push(vars[(r2 + e) % vars.length], 8 * e, 8);
      types.push(t);
      continue;
    }
    switch (k) {
      case KIND.INT: { const size = [1, 2, 4, 8][r2 % 4]; types.push([nm(r1), info(k, 0), size, ((r3 % 2) << 24) | (size * 8)]); break; }
      case KIND.FLOAT: types.push([nm(r1), info(k, 0), [4, 8][r2 % 2]]); break;
      case KIND.PTR: case KIND.VOLATILE: case KIND.CONST: case KIND.RESTRICT:
        types.push([0, info(k, 0), lower(i, r2)]); break;
      case KIND.TYPEDEF: case KIND.TYPE_TAG:
        types.push([nm(r1) || nameOff[1], info(k, 0), lower(i, r2)]); break;
      case KIND.ARRAY: types.push([0, info(k, 0), 0, lower(i, r2), lower(i, r3), r4 % 4]); break;
      case KIND.STRUCT: case KIND.UNION: {
        const vlen = r3 % 4;
        const t = [nm(r1), info(k, vlen), 8 * (r4 % 3 + 1)];
        for (let m = 0; m < vlen; m++) t.push(nm(r5 + m), any(r6 + 7 * m), k === KIND.UNION ? 0 : 8 * m * (r7 % 2));
        types.push(t);
        break;
      }
      case KIND.ENUM: {
        const vlen = r3 % 4; // 0: an enum forward declaration
        const t = [nm(r1), info(k, vlen, r4 % 2 === 1), 4];
        for (let m = 0; m < vlen; m++) t.push(nm(r5 + m), (r6 + m) % 3);
        types.push(t);
        break;
      }
      case KIND.ENUM64: {
        const vlen = r3 % 3;
        const t = [nm(r1), info(k, vlen), 8];
        for (let m = 0; m < vlen; m++) t.push(nm(r5 + m), (r6 + m) % 3, r7 % 2);
        types.push(t);
        break;
      }
      case KIND.FWD: types.push([nm(r1), info(k, 0, r2 % 2 === 1), 0]); break;
      case KIND.FUNC_PROTO: {
        const vlen = r3 % 3;
        const t = [0, info(k, vlen), lower(i, r2)];
        for (let m = 0; m < vlen; m++) t.push(nm(r5 + m), lower(i, r6 + 3 * m) || lower(i, 1));
        types.push(t);
        break;
      }
      case KIND.VAR: types.push([nm(r1) || nameOff[1], info(k, 0), lower(i, r2), r3 % 2]); break;
      case KIND.DECL_TAG: types.push([nm(r1) || nameOff[1], info(k, 0), r2 % (i + 1) || lower(i, 1), 0xffffffff]); break;
    }
  }
  return encode(types, strs.filter((s) => s !== ""));
}

/** Does some enum forward declaration have two or more different full enums of its name? */
export function ambiguousEnumForward(b: Btf): boolean {
  const fwd = new Set<string>();
  const full = new Map<string, Set<string>>();
  for (const t of b.types()) {
    if (t.kind !== KIND.ENUM && t.kind !== KIND.ENUM64) continue;
    if (t.vlen === 0) { fwd.add(t.name); continue; }
    const sig = JSON.stringify([t.kind, t.size, t.kflag, t.values.map((v) => [v.name, String(v.value)])]);
    if (!full.has(t.name)) full.set(t.name, new Set());
    full.get(t.name)!.add(sig);
  }
  return [...fwd].some((n) => (full.get(n)?.size ?? 0) > 1);
}

export const specArb = fc.array(fc.tuple(fc.nat(40), fc.nat(40), fc.nat(40), fc.nat(40), fc.nat(40), fc.nat(40), fc.nat(40), fc.nat(40)), { minLength: 1, maxLength: 40 });
