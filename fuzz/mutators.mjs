// Structure-aware mutations of BTF blobs (and the wrappers around them).
// Each mutator takes (bytes, rng, info) and returns new bytes; `info` holds
// the parsed layout of the seed (header fields, record offsets) so mutations
// hit real boundaries and fields rather than random noise only.

/** xorshift128+ over 32-bit halves: deterministic for a seed, fast, no deps. */
export function makeRng(seed) {
  let a = (seed >>> 0) || 1, b = ((seed * 2654435761) >>> 0) || 2, c = 0x9e3779b9, d = 0x7f4a7c15;
  const next = () => {
    const t = a ^ (a << 11);
    a = b; b = c; c = d;
    d = (d ^ (d >>> 19) ^ t ^ (t >>> 8)) >>> 0;
    return d;
  };
  return {
    u32: next,
    int: (n) => (n <= 1 ? 0 : next() % n),
    pick: (arr) => arr[next() % arr.length],
    chance: (p) => next() / 4294967296 < p,
  };
}

/** Record offsets of a little-endian BTF blob (classic profile), for targeting. */
export function layoutOf(b) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 24 || dv.getUint16(0, true) !== 0xeb9f) return null;
  const hdrLen = dv.getUint32(4, true);
  const typeOff = dv.getUint32(8, true), typeLen = dv.getUint32(12, true);
  const strOff = dv.getUint32(16, true), strLen = dv.getUint32(20, true);
  const recs = [];
  let p = hdrLen + typeOff;
  const end = Math.min(p + typeLen, b.length);
  const extra = (kind, vlen) => {
    switch (kind) {
      case 1: case 14: case 17: return 4;
      case 3: return 12;
      case 4: case 5: case 19: case 15: return vlen * 12;
      case 6: case 13: return vlen * 8;
      default: return 0;
    }
  };
  while (p + 12 <= end && recs.length < 1_000_000) {
    const info = dv.getUint32(p + 4, true);
    const kind = (info >>> 24) & 0x1f, vlen = info & 0xffff;
    recs.push({ off: p, kind, vlen });
    p += 12 + extra(kind, vlen);
  }
  return { hdrLen, typeOff, typeLen, strOff, strLen, recs };
}

const put32 = (b, off, v) => { if (off + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setUint32(off, v >>> 0, true); };
const get32 = (b, off) => (off + 4 <= b.length ? new DataView(b.buffer, b.byteOffset).getUint32(off, true) : 0);
const EXTREMES = [0, 1, 2, 3, 4, 7, 8, 11, 12, 23, 24, 31, 32, 0x7fff, 0xffff, 0x10000, 0xffffff, 0x1000000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xfffffffc, 0xffffffff];

export const MUTATORS = {
  bitflip(b, r) {
    const o = b.slice();
    const n = 1 + r.int(8);
    for (let i = 0; i < n && o.length; i++) o[r.int(o.length)] ^= 1 << r.int(8);
    return o;
  },
  truncateAtBoundary(b, r, info) {
    const cuts = [1, 2, 3, 4, 6, 8, 12, 16, 20, 23];
    if (info) {
      cuts.push(info.hdrLen, info.hdrLen + info.typeOff + info.typeLen, b.length - 1);
      for (let i = 0; i < 8 && info.recs.length; i++) {
        const rec = r.pick(info.recs);
        cuts.push(rec.off, rec.off + 4, rec.off + 8, rec.off + 12, rec.off + 13);
      }
    }
    return b.slice(0, Math.min(b.length, r.pick(cuts)));
  },
  headerExtreme(b, r) {
    const o = b.slice();
    put32(o, r.pick([4, 8, 12, 16, 20]), r.pick(EXTREMES));
    return o;
  },
  inflateVlen(b, r, info) {
    if (!info || !info.recs.length) return b;
    const o = b.slice();
    const rec = r.pick(info.recs.filter((x) => [4, 5, 6, 13, 15, 19].includes(x.kind)).concat(info.recs).slice(0, 4096));
    const infoWord = get32(o, rec.off + 4);
    put32(o, rec.off + 4, (infoWord & 0xffff0000) | r.pick([0xffff, rec.vlen + 1, rec.vlen * 2 + 1, 0x8000]));
    return o;
  },
  corruptId(b, r, info) {
    if (!info || !info.recs.length) return b;
    const o = b.slice();
    const rec = r.pick(info.recs);
    const n = info.recs.length;
    const v = r.pick([0, n, n + 1, n + 100643, 0x7fffffff, 0xffffffff, r.int(n + 2)]);
    if (rec.kind === 3) put32(o, rec.off + 12 + 4 * r.int(2), v);
    else if ((rec.kind === 4 || rec.kind === 5) && rec.vlen) put32(o, rec.off + 12 + 12 * r.int(rec.vlen) + 4, v);
    else put32(o, rec.off + 8, v);
    return o;
  },
  corruptStrOff(b, r, info) {
    if (!info || !info.recs.length) return b;
    const o = b.slice();
    const rec = r.pick(info.recs);
    const v = r.pick([info.strLen, info.strLen - 1, info.strLen + 1, 0xffffff, 0x1000000, 0xffffffff, r.int(info.strLen + 1)]);
    if ((rec.kind === 4 || rec.kind === 5 || rec.kind === 6) && rec.vlen && r.chance(0.5)) put32(o, rec.off + 12 + (rec.kind === 6 ? 8 : 12) * r.int(rec.vlen), v);
    else put32(o, rec.off, v);
    return o;
  },
  makeCycle(b, r, info) {
    // Point a modifier/typedef/pointer at itself or at an earlier chain member.
    if (!info) return b;
    const refs = info.recs.map((x, i) => ({ ...x, id: i + 1 })).filter((x) => [2, 8, 9, 10, 11, 18].includes(x.kind));
    if (refs.length < 1) return b;
    const o = b.slice();
    const a = r.pick(refs), c = r.pick(refs);
    put32(o, a.off + 8, c.id);
    put32(o, c.off + 8, a.id);
    return o;
  },
  kindChange(b, r, info) {
    if (!info || !info.recs.length) return b;
    const o = b.slice();
    const rec = r.pick(info.recs);
    const infoWord = get32(o, rec.off + 4);
    put32(o, rec.off + 4, (infoWord & 0x80ffffff) | (r.pick([0, 20, 21, 31, 1, 3, 4, 6, 13, 15, 19]) << 24));
    return o;
  },
  spliceRecords(b, r, info) {
    // Copy one record's bytes over another's: valid-looking records in wrong places.
    if (!info || info.recs.length < 2) return b;
    const o = b.slice();
    const x = r.pick(info.recs), y = r.pick(info.recs);
    o.copyWithin(y.off, x.off, Math.min(x.off + 12 + 12 * Math.min(x.vlen, 4), o.length));
    return o;
  },
};

export const MUTATOR_NAMES = Object.keys(MUTATORS);
