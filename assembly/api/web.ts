// Bulk views for the explorer (src/web/): every type's name as one text blob,
// every type's kind as one byte array, and the whole reverse-reference index.
// Each is one pass over the records, so the page's worker builds its search
// index and its "referred to by" lists from three copies out of wasm memory
// and never walks the type table itself.

import { Btf } from "../btf";
import { clearError } from "../errors";
import { getBtf, newResult } from "../handles";
import { T_NAME } from "../format";
import { typeIdFieldCount, typeIdFieldAddr } from "../fields";

/** Clamp `from` to [1, typeCnt]. */
function firstId(b: Btf, from: u32): u32 {
  const cnt = b.typeCnt();
  if (from < 1) return 1;
  return from > cnt ? cnt : from;
}

/**
 * Names of types [from, typeCnt) as UTF-8, one per line ("\n" after each,
 * anonymous types give an empty line). Control bytes in a name become '?',
 * so a hostile name cannot fake a line break. Returns false on a bad handle.
 */
export function webNames(h: i32, from: u32): bool {
  clearError();
  const b = getBtf(h);
  if (b === null) return false;
  const cnt = b.typeCnt();
  const start = firstId(b, from);
  // Average kernel name is ~15 bytes; the sink grows if not.
  const s = newResult((cnt - start) * 16 + 16);
  for (let id = start; id < cnt; id++) {
    const off = load<u32>(b.rec(id), T_NAME);
    if (off != 0 && b.strValid(off)) {
      let p = b.str(off);
      let c = load<u8>(p);
      while (c != 0) {
        s.byte(c < 0x20 || c == 0x7f ? 0x3f : c);
        p++;
        c = load<u8>(p);
      }
    }
    s.byte(0x0a);
  }
  return true;
}

/** Kinds of types [from, typeCnt), one byte each. */
export function webKinds(h: i32, from: u32): bool {
  clearError();
  const b = getBtf(h);
  if (b === null) return false;
  const cnt = b.typeCnt();
  const start = firstId(b, from);
  const s = newResult(cnt - start + 16);
  s.reserve(cnt - start);
  for (let id = start; id < cnt; id++) store<u8>(s.ptr + (id - start), <u8>b.kind(id));
  s.len = cnt - start;
  return true;
}

/**
 * The reverse-reference index over ids [1, typeCnt) (base types included for
 * split BTF), in compressed-row form, as little-endian u32 words:
 *   n = typeCnt, offsets[0..n] (n+1 words), referrers[offsets[n]]
 * The types that refer to `t` are referrers[offsets[t] .. offsets[t+1]),
 * ascending and without repeats (a struct with three members of type t is
 * listed once). VOID (0) gets no list. Two passes over the fields given by
 * fields.ts: count, then fill.
 */
export function webReferrers(h: i32): bool {
  clearError();
  const b = getBtf(h);
  if (b === null) return false;
  const cnt = b.typeCnt();
  const words = <usize>cnt;
  // cursor[t]: count, then the fill position; last[t]: last referrer seen.
  const cursor = heap.alloc(words << 2);
  const last = heap.alloc(words << 2);
  memory.fill(cursor, 0, words << 2);
  memory.fill(last, 0, words << 2);

  let total: u32 = 0;
  for (let id: u32 = 1; id < cnt; id++) {
    const o = b.owner(id);
    const p = o.ownRec(id);
    const kind = o.recKind(p);
    const n = typeIdFieldCount(kind, o.recVlen(p));
    for (let i: u32 = 0; i < n; i++) {
      const t = load<u32>(typeIdFieldAddr(p, kind, i));
      if (t == 0 || t >= cnt) continue;
      const la = last + (<usize>t << 2);
      if (load<u32>(la) == id) continue;
      store<u32>(la, id);
      const ca = cursor + (<usize>t << 2);
      store<u32>(ca, load<u32>(ca) + 1);
      total++;
    }
  }

  const s = newResult(<u32>((words + 2 + <usize>total) << 2));
  s.u32le(cnt);
  // offsets: prefix sums; cursor[t] becomes the start of t's row.
  let acc: u32 = 0;
  for (let t: u32 = 0; t < cnt; t++) {
    s.u32le(acc);
    const ca = cursor + (<usize>t << 2);
    const c = load<u32>(ca);
    store<u32>(ca, acc);
    acc += c;
  }
  s.u32le(acc);
  s.reserve(total << 2);
  memory.fill(last, 0, words << 2);
  const refBase = s.ptr + <usize>s.len;
  for (let id: u32 = 1; id < cnt; id++) {
    const o = b.owner(id);
    const p = o.ownRec(id);
    const kind = o.recKind(p);
    const n = typeIdFieldCount(kind, o.recVlen(p));
    for (let i: u32 = 0; i < n; i++) {
      const t = load<u32>(typeIdFieldAddr(p, kind, i));
      if (t == 0 || t >= cnt) continue;
      const la = last + (<usize>t << 2);
      if (load<u32>(la) == id) continue;
      store<u32>(la, id);
      const ca = cursor + (<usize>t << 2);
      const pos = load<u32>(ca);
      store<u32>(refBase + (<usize>pos << 2), id);
      store<u32>(ca, pos + 1);
    }
  }
  s.len += total << 2;
  heap.free(cursor);
  heap.free(last);
  return true;
}
