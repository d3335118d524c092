// A BPF object (a relocatable ELF, `.bpf.o`) as the CO-RE resolver reads it:
// its .BTF (the local types), the CO-RE relocation records of .BTF.ext, and
// the program sections those records point into.
//
// The ELF and the .BTF.ext header are read by elf.ts (findBtfSections checks
// the header and every sub-section the way libbpf's btf_ext_parse and
// btf_ext_setup_info do, record sizes taken from the data). Here the
// core_relo records are walked with the record size the file declares, each
// section name is looked up in the .BTF strings and then among the ELF
// sections (the first of that name, as libbpf's elf_sec_by_name), and every
// record is checked against its section before the resolver sees it. A lie
// gives a typed error at the byte offset (in the object file) of the field
// that lied; the resolver never reads outside the file.
//
// The object keeps its own copy of the file: instructions are read from it
// (byte-order aware) and patched copies are produced per record.

import { Err, fail } from "../errors";
import { Elf, parseElf, findBtfSections, BtfSections } from "../elf";
import { Btf } from "../btf";
import { parseBtf, LEVEL_LIBBPF } from "../parse";
import { cstrlen, cstreq } from "../bytes";

/** bpf_core_relo: insn_off, type_id, access_str_off, kind. */
export const CORE_RELO_MIN: u32 = 16;

/** One section of the core_relo sub-section: a program section of the object. */
export class CoreSection {
  /** Offset of the name in the object's .BTF strings. */
  nameOff: u32 = 0;
  /** ELF section index holding the instructions. */
  elfIndex: u32 = 0;
  /** File offset and size of the instructions. */
  dataOff: u32 = 0;
  dataSize: u32 = 0;
  /** Index of the first record in the object's record arrays, and how many. */
  first: u32 = 0;
  count: u32 = 0;
}

/** The relocation kinds (enum bpf_core_relo_kind). */
export const FIELD_BYTE_OFFSET: u32 = 0;
export const FIELD_BYTE_SIZE: u32 = 1;
export const FIELD_EXISTS: u32 = 2;
export const FIELD_SIGNED: u32 = 3;
export const FIELD_LSHIFT_U64: u32 = 4;
export const FIELD_RSHIFT_U64: u32 = 5;
export const TYPE_ID_LOCAL: u32 = 6;
export const TYPE_ID_TARGET: u32 = 7;
export const TYPE_EXISTS: u32 = 8;
export const TYPE_SIZE: u32 = 9;
export const ENUMVAL_EXISTS: u32 = 10;
export const ENUMVAL_VALUE: u32 = 11;
export const TYPE_MATCHES: u32 = 12;

export class CoreObject {
  /** The file (owned copy). */
  mem: usize = 0;
  size: u32 = 0;
  elf: Elf;
  secs: BtfSections;
  /** The local types. */
  btf: Btf;
  sections: Array<CoreSection> = new Array<CoreSection>();
  /** Per record (object order): section index, index in section, insn_off, type_id, access_str_off, kind, file offset of the record. */
  recSec: Array<u32> = new Array<u32>();
  recIdx: Array<u32> = new Array<u32>();
  insnOff: Array<u32> = new Array<u32>();
  typeId: Array<u32> = new Array<u32>();
  accessOff: Array<u32> = new Array<u32>();
  kind: Array<u32> = new Array<u32>();
  recFileOff: Array<u32> = new Array<u32>();

  constructor(mem: usize, size: u32, elf: Elf, secs: BtfSections, btf: Btf) {
    this.mem = mem;
    this.size = size;
    this.elf = elf;
    this.secs = secs;
    this.btf = btf;
  }

  @inline count(): i32 { return this.kind.length; }

  /** The 8 bytes of instruction `off` of section `s` as a u64 in little-endian instruction layout. */
  insnAt(s: CoreSection, off: u32): u64 {
    const p = this.mem + s.dataOff + off;
    let v = load<u64>(p);
    if (this.elf.bigEndian) v = insnFromBig(v);
    return v;
  }

  dispose(): void {
    this.btf.release();
    if (this.mem != 0) heap.free(this.mem);
    this.mem = 0;
  }
}

/**
 * A big-endian BPF instruction into the little-endian layout: code stays,
 * the register nibbles trade places, off (16 bits) and imm (32 bits) are
 * byte-swapped (libbpf bpf_insn_bswap).
 */
export function insnFromBig(v: u64): u64 {
  const code = v & 0xff;
  const regs = (v >> 8) & 0xff;
  const off = (v >> 16) & 0xffff;
  const imm = (v >> 32) & 0xffffffff;
  const r2 = ((regs & 0x0f) << 4) | (regs >> 4);
  const off2 = ((off & 0xff) << 8) | (off >> 8);
  const imm2 = <u64>bswap32u(<u32>imm);
  return code | (r2 << 8) | (off2 << 16) | (imm2 << 32);
}

@inline function bswap32u(v: u32): u32 {
  return (v >>> 24) | ((v >>> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

@inline function badExt(off: u64, msg: string): bool {
  return fail(Err.BAD_BTF_EXT, <i64>off, 0, ".BTF.ext: " + msg);
}

/**
 * Read a BPF object from [ptr, ptr+len). The object takes the memory (it must
 * come from memAlloc) on success; on failure it stays the caller's. Errors:
 * BAD_ELF, NO_BTF, BAD_BTF_EXT (no .BTF.ext, a section name outside the
 * strings or naming no section, an instruction offset that is not a multiple
 * of 8 or lies past its section), and the BTF
 * parser's own.
 */
export function readCoreObject(ptr: usize, len: u32): CoreObject | null {
  const e = parseElf(ptr, len);
  if (e === null) return null;
  const secs = findBtfSections(e);
  if (secs === null) return null;
  const btfOff = <u32>e.shOffset(<u32>secs.btf);
  const btfSize = <u32>e.shSize(<u32>secs.btf);
  // The BTF parser normalises a big-endian blob in place: give it its own copy.
  const blob = heap.alloc(btfSize == 0 ? 1 : btfSize);
  memory.copy(blob, ptr + btfOff, btfSize);
  const btf = parseBtf(blob, btfSize, blob, null, LEVEL_LIBBPF, btfOff);
  if (btf === null) { heap.free(blob); return null; }
  // libbpf's btf_parse_elf: the pointer size of BTF from an ELF file is the class's.
  btf.ptrSizeCache = e.is64 ? 8 : 4;
  const obj = new CoreObject(ptr, len, e, secs, btf);
  if (!readRecords(obj)) {
    obj.mem = 0; // the caller keeps the memory on failure
    obj.dispose();
    return null;
  }
  return obj;
}

function readRecords(o: CoreObject): bool {
  const e = o.elf;
  const r = o.secs;
  if (r.ext < 0) return true; // no .BTF.ext: no CO-RE relocations
  const sub = r.core;
  if (sub.len == 0) return true;
  const base = <u32>e.shOffset(<u32>r.ext) + r.extHdrLen + sub.off;
  const recSize = sub.recSize;
  const btf = o.btf;
  // Sub-section bounds and record counts were checked by findBtfSections.
  let q = base + 4;
  const end = base + sub.len;
  while (q < end) {
    const nameOff = e.u32(q);
    const n = e.u32(q + 4);
    if (!btf.strValid(nameOff)) return badExt(q, "core_relo section name offset " + nameOff.toString() + " is outside the .BTF strings");
    const name = btf.str(nameOff);
    if (load<u8>(name) == 0) return badExt(q, "core_relo section with an empty name");
    let idx: i32 = -1;
    for (let i: u32 = 1; i < e.shnum; i++) {
      if (cstreq(e.name(i), name)) { idx = <i32>i; break; }
    }
    if (idx < 0) return badExt(q, "core_relo records for section '" + String.UTF8.decodeUnsafe(name, cstrlen(name), false) + "', which the object does not have");
    const s = new CoreSection();
    s.nameOff = nameOff;
    s.elfIndex = <u32>idx;
    s.dataOff = e.hasData(<u32>idx) ? <u32>e.shOffset(<u32>idx) : 0;
    s.dataSize = e.hasData(<u32>idx) ? <u32>e.shSize(<u32>idx) : 0;
    s.first = <u32>o.kind.length;
    s.count = n;
    const si = <u32>o.sections.length;
    o.sections.push(s);
    let p = q + 8;
    for (let k: u32 = 0; k < n; k++, p += recSize) {
      const insnOff = e.u32(p);
      const typeId = e.u32(p + 4);
      const acc = e.u32(p + 8);
      const kind = e.u32(p + 12);
      if (insnOff & 7) return badExt(p, "core_relo #" + k.toString() + " insn_off " + insnOff.toString() + " is not a multiple of 8");
      if (<u64>insnOff + 8 > <u64>s.dataSize) return badExt(p, "core_relo #" + k.toString() + " insn_off " + insnOff.toString() + " is past the end of section '" + String.UTF8.decodeUnsafe(name, cstrlen(name), false) + "' (" + s.dataSize.toString() + " bytes)");
      if (!btf.strValid(acc)) return badExt(p + 8, "core_relo #" + k.toString() + " access string offset " + acc.toString() + " is outside the .BTF strings");
      o.recSec.push(si);
      o.recIdx.push(k);
      o.insnOff.push(insnOff);
      o.typeId.push(typeId);
      o.accessOff.push(acc);
      o.kind.push(kind);
      o.recFileOff.push(p);
    }
    q = p;
  }
  return true;
}

