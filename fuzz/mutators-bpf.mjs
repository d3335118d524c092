// Mutations of BPF objects (.bpf.o) aimed at what the CO-RE reader trusts:
// the .BTF.ext header and its sub-section offsets and lengths, the record
// size each sub-section declares, num_info of each per-section block, the
// section names those blocks point at (in .BTF's strings) and the ELF
// section names they are matched with, the four fields of each core_relo
// record (insn_off, type_id, access_str_off, kind), the access strings
// themselves, and the instructions the records point into. Objects of
// either byte order are laid out (libbpf's tests ship big-endian ones).

const EXT32 = [0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 24, 31, 32, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff];

function io(b, le) {
  const dv = () => new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    u16: (o) => (o + 2 <= b.length ? dv().getUint16(o, le) : 0),
    u32: (o) => (o + 4 <= b.length ? dv().getUint32(o, le) : 0),
    u64: (o) => (o + 8 <= b.length ? Number(dv().getBigUint64(o, le)) : 0),
  };
}

function writer(o, le) {
  const dv = new DataView(o.buffer, o.byteOffset, o.byteLength);
  return {
    put16: (off, v) => { if (off + 2 <= o.length) dv.setUint16(off, v & 0xffff, le); },
    put32: (off, v) => { if (off + 4 <= o.length) dv.setUint32(off, v >>> 0, le); },
    put64: (off, v) => { if (off + 8 <= o.length) dv.setBigUint64(off, BigInt.asUintN(64, BigInt(v)), le); },
  };
}

/**
 * Where everything is in an ELF64 BPF object of either byte order: sections
 * (with names), the .BTF string table, the .BTF.ext header, and each
 * sub-section's blocks and records (file offsets). Null when the file is not
 * laid out well enough to target; the byte-level mutators still apply.
 */
export function bpfLayoutOf(b) {
  if (b.length < 64 || b[0] !== 0x7f || b[1] !== 0x45 || b[4] !== 2 || (b[5] !== 1 && b[5] !== 2)) return null;
  const le = b[5] === 1;
  const { u16, u32, u64 } = io(b, le);
  const shoff = u64(0x28), shnum = u16(0x3c), shstrndx = u16(0x3e);
  if (shoff + shnum * 64 > b.length || shstrndx >= shnum) return null;
  const secs = [];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * 64;
    secs.push({ index: i, hdr: h, nameOff: u32(h), type: u32(h + 4), flags: u64(h + 8), offset: u64(h + 24), size: u64(h + 32) });
  }
  const shstr = secs[shstrndx];
  for (const s of secs) {
    s.name = "";
    s.nameAt = shstr.offset + s.nameOff;
    let p = s.nameAt;
    while (p < b.length && b[p] !== 0 && s.name.length < 128) s.name += String.fromCharCode(b[p++]);
  }
  const byName = (n) => secs.find((s) => s.name === n);
  const btf = byName(".BTF"), ext = byName(".BTF.ext");
  const L = { le, shoff, shnum, shstrndx, secs, btf, ext, progs: secs.filter((s) => s.type === 1 && (s.flags & 4) !== 0 && s.size > 0), strBase: 0, strLen: 0, hdr: null, subs: [], records: [], accessOffs: [] };
  if (btf && btf.offset + 24 <= b.length) {
    const hl = u32(btf.offset + 4);
    L.strBase = btf.offset + hl + u32(btf.offset + 16);
    L.strLen = u32(btf.offset + 20);
  }
  if (!ext || ext.offset + 8 > b.length) return L;
  const e = ext.offset;
  const hdrLen = u32(e + 4);
  L.hdr = { at: e, hdrLen };
  const subs = [["func_info", 8], ["line_info", 16], ["core_relo", 24]];
  for (const [name, fo] of subs) {
    if (fo + 8 > hdrLen) continue;
    const off = u32(e + fo), len = u32(e + fo + 4);
    const start = e + hdrLen + off;
    const sub = { name, fieldAt: e + fo, start, len, recSizeAt: start, recSize: u32(start), blocks: [] };
    L.subs.push(sub);
    if (len < 4 || start + len > b.length || sub.recSize < 4 || sub.recSize > 4096) continue;
    // The blocks: sec_name_off, num_info, then num_info records.
    let p = start + 4;
    const end = start + len;
    while (p + 8 <= end && sub.blocks.length < 4096) {
      const n = u32(p + 4);
      const block = { at: p, secNameOff: u32(p), num: n, recs: [] };
      sub.blocks.push(block);
      p += 8;
      for (let k = 0; k < n && p + sub.recSize <= end && k < 100000; k++, p += sub.recSize) {
        block.recs.push(p);
        if (name === "core_relo") {
          L.records.push({ at: p, block, insnOff: u32(p), typeId: u32(p + 4), accessOff: u32(p + 8), kind: u32(p + 12) });
          L.accessOffs.push(u32(p + 8));
        }
      }
      if (block.recs.length < n) break;
    }
  }
  return L;
}

const pickRecord = (r, L) => (L && L.records.length ? r.pick(L.records) : null);

/** Access strings that do not parse, overflow, or nest too deep (bpf_core_parse_spec's limits). */
const BAD_ACCESS = ["", ":", "0:", ":0", "0::1", "-1", "0:-1", "a", "0:x", "99999999999", "4294967296", "0:4294967295", "1", "0:1000000",
  "0" + ":0".repeat(63), "0" + ":1".repeat(64), "0" + ":0".repeat(200), "0 :1", "0:1 ", "0x10", "+1", "0:1:2:3:4:5:6:7:8:9"];

export const BPF_MUTATORS = {
  extHeader(b, r, L) {
    if (!L || !L.hdr) return b;
    const o = b.slice();
    const w = writer(o, L.le);
    const e = L.hdr.at;
    switch (r.int(6)) {
      case 0: w.put16(e, r.pick([0, 0x9feb, 0xeb9f, 0xffff])); break; // magic, also the other byte order
      case 1: o[e + 2] = r.pick([0, 2, 0xff]); break; // version
      case 2: o[e + 3] = r.pick([1, 0x80, 0xff]); break; // flags
      case 3: w.put32(e + 4, r.pick([0, 4, 8, 23, 24, 25, 31, 32, 33, 40, 0x1000, L.hdr.hdrLen + 8, 0xffffffff])); break; // hdr_len
      default: {
        // A sub-section's offset or length.
        const sub = L.subs.length ? r.pick(L.subs) : null;
        if (!sub) break;
        const other = r.pick(L.subs);
        const field = sub.fieldAt + (r.chance(0.5) ? 0 : 4);
        w.put32(field, r.pick([...EXT32, sub.len + 1, sub.len - 1, sub.len + 4, other.start - e - L.hdr.hdrLen, L.ext.size, L.ext.size - L.hdr.hdrLen + 1]));
      }
    }
    return o;
  },
  recordSize(b, r, L) {
    // The record size each sub-section declares (libbpf takes it from the data; a lie must be caught).
    if (!L || !L.subs.length) return b;
    const sub = r.pick(L.subs);
    const o = b.slice();
    writer(o, L.le).put32(sub.recSizeAt, r.pick([0, 1, 3, 4, 7, 8, 12, 15, 16, 17, 20, 24, 32, 33, 0x100, 0x10000, 0xffffffff, sub.recSize * 2, sub.recSize + 4]));
    return o;
  },
  numInfo(b, r, L) {
    if (!L) return b;
    const blocks = L.subs.flatMap((s) => s.blocks);
    if (!blocks.length) return b;
    const k = r.pick(blocks);
    const o = b.slice();
    writer(o, L.le).put32(k.at + 4, r.pick([0, 1, k.num - 1, k.num + 1, k.num * 2, 0x10000, 0x7fffffff, 0xffffffff]));
    return o;
  },
  blockSecName(b, r, L) {
    // sec_name_off of a block: another string, the middle of one, past the strings, 0 (the empty name).
    if (!L) return b;
    const blocks = L.subs.flatMap((s) => s.blocks);
    if (!blocks.length) return b;
    const k = r.pick(blocks);
    const o = b.slice();
    const other = r.pick(blocks).secNameOff;
    writer(o, L.le).put32(k.at, r.pick([0, 1, other, other + 1, L.strLen - 1, L.strLen, L.strLen + 1, 0xffffffff, ...(L.accessOffs.length ? [r.pick(L.accessOffs)] : [])]));
    return o;
  },
  elfSectionName(b, r, L) {
    // Rename a program section in .shstrtab (so a block names a section that
    // is missing), or point its name at another section's (two of one name).
    if (!L || !L.progs.length) return b;
    const s = r.pick(L.progs);
    const o = b.slice();
    if (r.chance(0.5) && s.name.length > 0) {
      const at = s.nameAt + r.int(s.name.length);
      if (at < o.length) o[at] = r.pick([0, 0x2e, 0x2f, 0x58, 0xff]);
    } else {
      writer(o, L.le).put32(s.hdr, r.pick(L.secs).nameOff);
    }
    return o;
  },
  progSection(b, r, L) {
    // A program section's header: size smaller than the records need, offset off the end, type NOBITS.
    if (!L || !L.progs.length) return b;
    const s = r.pick(L.progs);
    const o = b.slice();
    const w = writer(o, L.le);
    switch (r.int(4)) {
      case 0: w.put64(s.hdr + 32, r.pick([0, 7, 8, s.size - 8, s.size - 1, s.size + 8, 2 ** 32 + s.size])); break;
      case 1: w.put64(s.hdr + 24, r.pick([0, b.length, b.length - 8, 2 ** 40, s.offset + 1])); break;
      case 2: w.put32(s.hdr + 4, r.pick([0, 8, 2, 0xffffffff])); break;
      case 3: w.put64(s.hdr + 8, r.pick([0, 2, 6, 0xffffffff])); break;
    }
    return o;
  },
  reloField(b, r, L) {
    const rec = pickRecord(r, L);
    if (!rec) return b;
    const o = b.slice();
    const w = writer(o, L.le);
    const other = r.pick(L.records);
    switch (r.int(4)) {
      case 0: w.put32(rec.at, r.pick([rec.insnOff + 1, rec.insnOff + 4, rec.insnOff + 8, rec.insnOff - 8, other.insnOff, 0x7ffffff8, 0xfffffff8, 0xffffffff, 2 ** 20])); break; // insn_off
      case 1: w.put32(rec.at + 4, r.pick([0, 1, other.typeId, rec.typeId + 1, rec.typeId - 1, 0x7fffffff, 0xffffffff, 100000])); break; // type_id
      case 2: w.put32(rec.at + 8, r.pick([0, other.accessOff, rec.accessOff + 1, L.strLen - 1, L.strLen, 0xffffffff])); break; // access_str_off
      case 3: w.put32(rec.at + 12, r.pick([...Array.from({ length: 14 }, (_, k) => k), 0xff, 0xffffffff])); break; // kind (13 is unknown)
    }
    return o;
  },
  accessString(b, r, L) {
    // Rewrite an access string in place (what fits; the rest NUL-padded).
    const rec = pickRecord(r, L);
    if (!rec || !L.strBase) return b;
    const at = L.strBase + rec.accessOff;
    if (at >= b.length) return b;
    let len = 0;
    while (at + len < b.length && b[at + len] !== 0) len++;
    const o = b.slice();
    const s = r.chance(0.7) ? r.pick(BAD_ACCESS) : Array.from({ length: len }, () => r.pick(["0", "1", "9", ":", "a", "-"])).join("");
    const room = r.chance(0.3) ? Math.min(s.length, Math.max(len, 0) + 64) : Math.min(s.length, len); // may run over the next string
    for (let k = 0; k < room && at + k < o.length; k++) o[at + k] = s.charCodeAt(k);
    for (let k = room; k < len && at + k < o.length; k++) o[at + k] = 0;
    return o;
  },
  insnAtRecord(b, r, L) {
    // The instruction a record patches: opcode, registers, offset, immediate, or a half ldimm64.
    const rec = pickRecord(r, L);
    if (!rec) return b;
    const sec = L.progs.find((s) => s.name === sectionNameOf(b, L, rec.block.secNameOff)) ?? (L.progs.length ? r.pick(L.progs) : null);
    if (!sec) return b;
    const at = sec.offset + rec.insnOff;
    if (at + 8 > b.length) return b;
    const o = b.slice();
    const w = writer(o, L.le);
    switch (r.int(5)) {
      case 0: o[at] = r.pick([0x00, 0x07, 0x18, 0x61, 0x63, 0x79, 0x7b, 0x85, 0x95, 0xb7, 0xbf, 0xff]); break;
      case 1: o[at + 1] = r.u32() & 0xff; break;
      case 2: w.put16(at + 2, r.pick([0, 1, 0x7fff, 0x8000, 0xffff])); break;
      case 3: w.put32(at + 4, r.pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff])); break;
      case 4: if (at + 16 <= o.length) o.fill(0, at + 8, at + 16); break;
    }
    return o;
  },
  truncate(b, r, L) {
    const cuts = [16, 63, 64];
    if (L) {
      cuts.push(L.shoff, L.shoff + 64 * r.int(L.shnum + 1));
      if (L.ext) cuts.push(L.ext.offset + 4, L.ext.offset + 31, L.ext.offset + L.ext.size - 1);
      if (L.records.length) cuts.push(r.pick(L.records).at + r.int(16));
    }
    return b.slice(0, Math.max(0, Math.min(b.length - 1, r.pick(cuts))));
  },
  bitflip(b, r, L) {
    // Flips inside .BTF.ext more often than elsewhere.
    const o = b.slice();
    const inExt = L && L.ext && L.ext.offset + L.ext.size <= b.length && r.chance(0.7);
    for (let k = 0, n = 1 + r.int(8); k < n; k++) {
      const at = inExt ? L.ext.offset + r.int(Math.max(1, L.ext.size)) : r.int(o.length);
      o[at] ^= 1 << r.int(8);
    }
    return o;
  },
};

function sectionNameOf(b, L, off) {
  let s = "";
  for (let p = L.strBase + off; p < b.length && p < L.strBase + L.strLen && b[p] !== 0 && s.length < 128; p++) s += String.fromCharCode(b[p]);
  return s;
}

export const BPF_MUTATOR_NAMES = Object.keys(BPF_MUTATORS);
