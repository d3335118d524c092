// ELF-aware mutations of kernel modules (.ko): the section header table,
// the ELF header's table fields, symbol table entries, the symbols that
// locate .BTF_ids sets, overlapping sections, and the BTF payloads inside
// .BTF / .BTF.base (through the BTF mutators of mutators.mjs). Only ELF64
// little-endian files are laid out (every corpus module is); others still
// get the byte-level mutators.
import { MUTATORS, layoutOf } from "./mutators.mjs";

const u16 = (b, o) => (o + 2 <= b.length ? b[o] | (b[o + 1] << 8) : 0);
const u32 = (b, o) => (o + 4 <= b.length ? new DataView(b.buffer, b.byteOffset).getUint32(o, true) : 0);
const u64 = (b, o) => (o + 8 <= b.length ? Number(new DataView(b.buffer, b.byteOffset).getBigUint64(o, true)) : 0);
const put16 = (b, o, v) => { if (o + 2 <= b.length) { b[o] = v & 0xff; b[o + 1] = (v >>> 8) & 0xff; } };
const put32 = (b, o, v) => { if (o + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setUint32(o, v >>> 0, true); };
const put64 = (b, o, v) => { if (o + 8 <= b.length) new DataView(b.buffer, b.byteOffset).setBigUint64(o, BigInt.asUintN(64, BigInt(v)), true); };

/** Section headers, symbols and the BTF sections of an ELF64 LE file, for targeting. */
export function elfLayoutOf(b) {
  if (b.length < 64 || b[0] !== 0x7f || b[1] !== 0x45 || b[4] !== 2 || b[5] !== 1) return null;
  const shoff = u64(b, 0x28), shnum = u16(b, 0x3c), shstrndx = u16(b, 0x3e);
  if (shoff + shnum * 64 > b.length) return null;
  const secs = [];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * 64;
    secs.push({ index: i, hdr: h, nameOff: u32(b, h), type: u32(b, h + 4), offset: u64(b, h + 24), size: u64(b, h + 32), link: u32(b, h + 40), info: u32(b, h + 44) });
  }
  const strtab = secs[shstrndx];
  for (const s of secs) {
    s.name = "";
    if (!strtab) continue;
    let p = strtab.offset + s.nameOff;
    while (p < b.length && b[p] !== 0 && s.name.length < 64) s.name += String.fromCharCode(b[p++]);
  }
  const byName = (n) => secs.filter((s) => s.name === n).pop();
  const symtab = secs.find((s) => s.type === 2);
  const syms = [];
  if (symtab && symtab.offset + symtab.size <= b.length) {
    for (let o = symtab.offset + 24; o + 24 <= symtab.offset + symtab.size && syms.length < 100000; o += 24) {
      syms.push({ off: o, shndx: u16(b, o + 6) });
    }
  }
  const ids = byName(".BTF_ids");
  return {
    shoff, shnum, shstrndx, secs, syms,
    idsSyms: ids ? syms.filter((s) => s.shndx === ids.index) : [],
    btf: byName(".BTF"), btfBase: byName(".BTF.base"), ids,
  };
}

const EXT64 = [0, 1, 4, 8, 24, 63, 64, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 32, 2 ** 40, 2 ** 53 - 1, -1, -64];

/** Replace a BTF section's bytes with a mutated copy of the same or smaller length. */
function mutateSection(b, r, sec) {
  if (!sec || sec.offset + sec.size > b.length || sec.size < 4) return b;
  const inner = b.slice(sec.offset, sec.offset + sec.size);
  const name = r.pick(["bitflip", "headerExtreme", "inflateVlen", "corruptId", "corruptStrOff", "makeCycle", "kindChange", "spliceRecords", "truncateAtBoundary"]);
  const mutated = MUTATORS[name](inner, r, layoutOf(inner));
  const o = b.slice();
  o.set(mutated.subarray(0, Math.min(mutated.length, sec.size)), sec.offset);
  if (mutated.length < sec.size) put64(o, sec.hdr + 32, mutated.length);
  return o;
}

export const ELF_MUTATORS = {
  shField(b, r, L) {
    if (!L || !L.secs.length) return b;
    const o = b.slice();
    const s = r.chance(0.5) ? r.pick([L.btf, L.btfBase, L.ids, L.secs[L.shstrndx]].filter(Boolean).concat(L.secs[0])) : r.pick(L.secs);
    const field = r.pick(["offset", "size", "name", "link", "info", "type", "entsize", "align"]);
    const other = r.pick(L.secs);
    const v = r.pick([...EXT64, b.length, b.length - 1, b.length + 1, other.offset, other.offset + other.size, other.size, s.size + 1, s.size - 1]);
    switch (field) {
      case "offset": put64(o, s.hdr + 24, v); break;
      case "size": put64(o, s.hdr + 32, v); break;
      case "name": put32(o, s.hdr, r.pick([v, other.nameOff, other.nameOff + 1])); break;
      case "link": put32(o, s.hdr + 40, r.pick([0, L.shnum, L.shnum + 1, 0xffff, 0xffffffff, other.index])); break;
      case "info": put32(o, s.hdr + 44, r.pick([0, L.shnum, 0xffffffff, L.syms.length + 2, other.index])); break;
      case "type": put32(o, s.hdr + 4, r.pick([0, 1, 2, 3, 8, 9, 11, 0x6ffffff6, 0xffffffff])); break;
      case "entsize": put64(o, s.hdr + 56, r.pick([0, 1, 23, 24, 25, 2 ** 32, -1])); break;
      case "align": put64(o, s.hdr + 48, r.pick([0, 3, 4096, 2 ** 62, -1])); break;
    }
    return o;
  },
  ehdrField(b, r, L) {
    const o = b.slice();
    const shnum = L ? L.shnum : 16;
    switch (r.int(7)) {
      case 0: put16(o, 0x3c, r.pick([0, 1, shnum - 1, shnum + 1, 0xff00, 0xffff])); break;
      case 1: put16(o, 0x3e, r.pick([0, shnum - 1, shnum, 0xfeff, 0xffff])); break;
      case 2: put64(o, 0x28, r.pick([0, 64, b.length, b.length - 64, b.length - 63, ...EXT64])); break;
      case 3: put16(o, 0x3a, r.pick([0, 40, 63, 65, 0xffff])); break;
      case 4: o[4] = r.pick([0, 1, 3]); break; // class: ELF32 or bad
      case 5: o[5] = r.pick([0, 2, 3]); break; // data: big-endian or bad
      case 6: put16(o, 0x10, r.pick([0, 1, 2, 3, 4, 0xffff])); break; // e_type
    }
    return o;
  },
  overlapSections(b, r, L) {
    if (!L || L.secs.length < 3) return b;
    const o = b.slice();
    const a = r.pick([L.btf, L.btfBase, L.ids, L.secs[L.shstrndx], r.pick(L.secs)].filter(Boolean));
    const c = r.pick(L.secs.filter((s) => s !== a)) ?? a;
    put64(o, a.hdr + 24, c.offset + (r.chance(0.5) ? 0 : r.int(Math.max(1, c.size))));
    if (r.chance(0.5)) put64(o, a.hdr + 32, Math.max(a.size, c.size));
    return o;
  },
  symtabEntry(b, r, L) {
    if (!L || !L.syms.length) return b;
    const o = b.slice();
    const s = r.chance(0.6) && L.idsSyms.length ? r.pick(L.idsSyms) : r.pick(L.syms);
    switch (r.int(5)) {
      case 0: put32(o, s.off, r.pick([0, 0xffffff, 0xffffffff, 1 + r.int(1 << 16)])); break; // st_name
      case 1: put16(o, s.off + 6, r.pick([0, 0xfff1, 0xfff2, 0xffff, L.shnum, L.shnum - 1, L.ids?.index ?? 1])); break; // st_shndx
      case 2: put64(o, s.off + 8, r.pick([...EXT64, (L.ids?.size ?? 0), (L.ids?.size ?? 0) - 4, (L.ids?.size ?? 0) - 2, 2, 3])); break; // st_value
      case 3: put64(o, s.off + 16, r.pick(EXT64)); break; // st_size
      case 4: o[s.off + 4] = r.u32() & 0xff; break; // st_info
    }
    return o;
  },
  btfIdsContents(b, r, L) {
    // Set headers (cnt, set8 flags) and ids inside .BTF_ids pushed to extremes.
    if (!L || !L.ids || L.ids.offset + L.ids.size > b.length || L.ids.size < 4) return b;
    const o = b.slice();
    const slot = L.ids.offset + 4 * r.int(L.ids.size >>> 2);
    put32(o, slot, r.pick([0, 1, 0xffff, 0x7fffffff, 0xffffffff, 100000, (L.ids.size >>> 2) + 1]));
    return o;
  },
  btfPayload(b, r, L) {
    if (!L) return b;
    return mutateSection(b, r, r.chance(0.7) || !L.btfBase ? L.btf : L.btfBase);
  },
  truncateAtSection(b, r, L) {
    const cuts = [16, 52, 63, 64];
    if (L) {
      cuts.push(L.shoff, L.shoff + 64 * r.int(L.shnum + 1), L.shoff + 63);
      const s = r.pick(L.secs);
      if (s) cuts.push(s.offset, s.offset + s.size - 1, s.offset + s.size);
    }
    return b.slice(0, Math.max(0, Math.min(b.length - 1, r.pick(cuts))));
  },
  bitflip: (b, r) => MUTATORS.bitflip(b, r),
};

export const ELF_MUTATOR_NAMES = Object.keys(ELF_MUTATORS);
