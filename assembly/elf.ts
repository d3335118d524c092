// ELF containers of BTF: vmlinux (ET_EXEC), kernel modules (ET_REL .ko) and
// BPF objects (.o), in either class and either byte order.
//
// Reading: the header and section header table are validated against the
// size of the data with 64-bit arithmetic before anything is read through
// them (extended numbering included: e_shnum == 0 takes the count from
// section 0's sh_size, e_shstrndx == SHN_XINDEX the index from its sh_link).
// Every non-NOBITS section must lie inside the data and every name inside
// .shstrtab. A lie gives Err.BAD_ELF at the byte offset of the field that
// lied; nothing is allocated in proportion to a claimed count before that
// count has been checked against the file.
//
// Finding BTF follows libbpf's btf_find_elf_sections: sections are matched
// by name, the last one of a name wins, and .BTF/.BTF.ext/.BTF.base must be
// SHT_PROGBITS. .BTF.ext is checked as libbpf's btf_ext_parse and
// btf_ext_setup_info do. The BTF data must be in the ELF's byte order:
// libbpf's object loader refuses ELF data of a foreign order
// (bpf_object__check_endianness) and its static linker refuses to mix orders
// in one output, so a file whose BTF magic disagrees with EI_DATA is corrupt.
//
// Writing (replaceSections) lives in elf_rewrite.ts and the .BTF_ids remap
// (remapBtfIds) in btf_ids.ts; each explains its layout decisions.

import { Err, fail } from "./errors";
import { bswap16, bswap32, bswap64, cstrEqLit, cstrToString } from "./bytes";
import { ByteSink } from "./sink";

export const SHT_NULL: u32 = 0;
export const SHT_PROGBITS: u32 = 1;
export const SHT_SYMTAB: u32 = 2;
export const SHT_STRTAB: u32 = 3;
export const SHT_NOBITS: u32 = 8;
export const SHT_SYMTAB_SHNDX: u32 = 18;
export const SHF_ALLOC: u64 = 2;
export const SHN_LORESERVE: u32 = 0xff00;
export const SHN_XINDEX: u32 = 0xffff;
export const PN_XNUM: u32 = 0xffff;
const ET_REL: u32 = 1;

/**
 * The most sections we accept: far above any real file (a vmlinux has ~100,
 * an allyesconfig object with -ffunction-sections ~100k), low enough that
 * per-section work and tables stay small.
 */
export const MAX_SECTIONS: u32 = 65535 * 16;

const BTF_MAGIC: u32 = 0xeb9f;
const BTF_MAGIC_SWAPPED: u32 = 0x9feb;

// Header sizes and field positions (ELF32 | ELF64).
const EHDR32: u32 = 52;
const EHDR64: u32 = 64;
const SHDR32: u32 = 40;
const SHDR64: u32 = 64;
export const PHDR32: u32 = 32;
export const PHDR64: u32 = 56;
export const SYM32: u32 = 16;
export const SYM64: u32 = 24;

export class Elf {
  mem: usize = 0;
  /** Bytes the ELF data occupies; everything it points at must lie below. */
  size: u32 = 0;
  is64: bool = false;
  bigEndian: bool = false;
  type: u32 = 0;
  machine: u32 = 0;
  shoff: u32 = 0;
  shentsize: u32 = 0;
  /** Section count, after extended numbering. */
  shnum: u32 = 0;
  /** Index of the section name table, after extended numbering (0 when there are no sections). */
  shstrndx: u32 = 0;
  shstrOff: u32 = 0;
  shstrSize: u32 = 0;

  // ---- byte-order aware access (offsets are file offsets, already bounds checked) ----

  @inline u8(off: u32): u32 { return <u32>load<u8>(this.mem + off); }
  u16(off: u32): u32 {
    const v = <u32>load<u16>(this.mem + off);
    return this.bigEndian ? bswap16(v) : v;
  }
  u32(off: u32): u32 {
    const v = load<u32>(this.mem + off);
    return this.bigEndian ? bswap32(v) : v;
  }
  u64(off: u32): u64 {
    const v = load<u64>(this.mem + off);
    return this.bigEndian ? bswap64(v) : v;
  }
  /** An address/offset/size word of the class's width. */
  @inline word(off: u32): u64 { return this.is64 ? this.u64(off) : <u64>this.u32(off); }

  // ---- header fields ----
  @inline ehsize(): u32 { return this.is64 ? EHDR64 : EHDR32; }
  @inline fPhoff(): u32 { return this.is64 ? 32 : 28; }
  @inline fShoff(): u32 { return this.is64 ? 40 : 32; }
  @inline fPhentsize(): u32 { return this.is64 ? 54 : 42; }
  @inline fPhnum(): u32 { return this.is64 ? 56 : 44; }
  @inline fShentsize(): u32 { return this.is64 ? 58 : 46; }
  @inline fShnum(): u32 { return this.is64 ? 60 : 48; }
  @inline fShstrndx(): u32 { return this.is64 ? 62 : 50; }

  // ---- section header fields: file offset of the field, then its value ----
  @inline shdr(i: u32): u32 { return this.shoff + i * this.shentsize; }
  @inline fName(i: u32): u32 { return this.shdr(i); }
  @inline fType(i: u32): u32 { return this.shdr(i) + 4; }
  @inline fFlags(i: u32): u32 { return this.shdr(i) + 8; }
  @inline fAddr(i: u32): u32 { return this.shdr(i) + (this.is64 ? 16 : 12); }
  @inline fOffset(i: u32): u32 { return this.shdr(i) + (this.is64 ? 24 : 16); }
  @inline fSize(i: u32): u32 { return this.shdr(i) + (this.is64 ? 32 : 20); }
  @inline fLink(i: u32): u32 { return this.shdr(i) + (this.is64 ? 40 : 24); }
  @inline fInfo(i: u32): u32 { return this.shdr(i) + (this.is64 ? 44 : 28); }
  @inline fAlign(i: u32): u32 { return this.shdr(i) + (this.is64 ? 48 : 32); }
  @inline fEntsize(i: u32): u32 { return this.shdr(i) + (this.is64 ? 56 : 36); }

  @inline shName(i: u32): u32 { return this.u32(this.fName(i)); }
  @inline shType(i: u32): u32 { return this.u32(this.fType(i)); }
  @inline shFlags(i: u32): u64 { return this.word(this.fFlags(i)); }
  @inline shAddr(i: u32): u64 { return this.word(this.fAddr(i)); }
  @inline shOffset(i: u32): u64 { return this.word(this.fOffset(i)); }
  @inline shSize(i: u32): u64 { return this.word(this.fSize(i)); }
  @inline shLink(i: u32): u32 { return this.u32(this.fLink(i)); }
  @inline shInfo(i: u32): u32 { return this.u32(this.fInfo(i)); }
  @inline shAlign(i: u32): u64 { return this.word(this.fAlign(i)); }
  @inline shEntsize(i: u32): u64 { return this.word(this.fEntsize(i)); }

  /** Does section i carry bytes in the file? */
  @inline hasData(i: u32): bool {
    const t = this.shType(i);
    return t != SHT_NOBITS && t != SHT_NULL;
  }

  /** Address of section i's name (NUL-terminated: .shstrtab ends in NUL). */
  @inline name(i: u32): usize { return this.mem + this.shstrOff + this.shName(i); }

  /** Index of the last section called `name`, or -1 (libbpf keeps the last match). */
  findSection(name: string): i32 {
    let found: i32 = -1;
    for (let i: u32 = 1; i < this.shnum; i++) {
      if (cstrEqLit(this.name(i), name)) found = <i32>i;
    }
    return found;
  }

  /** Index of the last section of type `t`, or -1. */
  findType(t: u32): i32 {
    let found: i32 = -1;
    for (let i: u32 = 1; i < this.shnum; i++) {
      if (this.shType(i) == t) found = <i32>i;
    }
    return found;
  }

  /** "section 39 (.BTF)" for messages. */
  describe(i: u32): string {
    return "section " + i.toString() + " (" + cstrToString(this.name(i)) + ")";
  }
}

@inline export function badElf(off: u64, msg: string): bool {
  return fail(Err.BAD_ELF, <i64>off, 0, msg);
}

/**
 * Parse and validate the ELF header and section header table of the data at
 * [mem, mem+size). Returns null with Err.BAD_ELF recorded.
 */
export function parseElf(mem: usize, size: u32): Elf | null {
  const e = new Elf();
  e.mem = mem;
  e.size = size;
  if (size < 16) { badElf(size, "ELF identification truncated (" + size.toString() + " bytes)"); return null; }
  if (load<u8>(mem) != 0x7f || load<u8>(mem, 1) != 0x45 || load<u8>(mem, 2) != 0x4c || load<u8>(mem, 3) != 0x46) {
    badElf(0, "not an ELF file (bad magic)");
    return null;
  }
  const cls = <u32>load<u8>(mem, 4);
  if (cls != 1 && cls != 2) { badElf(4, "unknown ELF class " + cls.toString()); return null; }
  const data = <u32>load<u8>(mem, 5);
  if (data != 1 && data != 2) { badElf(5, "unknown ELF data encoding " + data.toString()); return null; }
  e.is64 = cls == 2;
  e.bigEndian = data == 2;
  const ehsize = e.ehsize();
  if (size < ehsize) { badElf(size, "ELF header truncated: " + size.toString() + " bytes of " + ehsize.toString()); return null; }
  e.type = e.u16(16);
  e.machine = e.u16(18);

  const shoff = e.word(e.fShoff());
  const shentsize = e.u16(e.fShentsize());
  const eShnum = e.u16(e.fShnum());
  const eShstrndx = e.u16(e.fShstrndx());
  if (shoff == 0) {
    // No section table: legal ELF (nothing to find in it), unless it claims sections.
    if (eShnum != 0) { badElf(e.fShnum(), "e_shnum is " + eShnum.toString() + " but e_shoff is 0"); return null; }
    return e;
  }
  const want = e.is64 ? SHDR64 : SHDR32;
  if (shentsize != want) { badElf(e.fShentsize(), "e_shentsize " + shentsize.toString() + " (want " + want.toString() + ")"); return null; }
  if (shoff > <u64>size || <u64>size - shoff < <u64>shentsize) {
    badElf(e.fShoff(), "section header table at offset " + shoff.toString() + " runs past the end of the file (" + size.toString() + " bytes)");
    return null;
  }
  e.shoff = <u32>shoff;
  e.shentsize = shentsize;

  // Extended numbering lives in section 0, which we now know is readable.
  let count: u64 = <u64>eShnum;
  let countField = e.fShnum();
  if (eShnum == 0) {
    count = e.shSize(0);
    countField = e.fSize(0);
  }
  if (count > <u64>MAX_SECTIONS) { badElf(countField, "absurd section count " + count.toString()); return null; }
  if (<u64>shoff + count * <u64>shentsize > <u64>size) {
    badElf(countField, count.toString() + " section headers at offset " + shoff.toString() + " run past the end of the file (" + size.toString() + " bytes)");
    return null;
  }
  e.shnum = <u32>count;
  if (e.shnum == 0) return e;

  let strndx = eShstrndx;
  let strndxField = e.fShstrndx();
  if (eShstrndx == SHN_XINDEX) {
    strndx = e.shLink(0);
    strndxField = e.fLink(0);
  }
  if (strndx == 0 || strndx >= e.shnum) {
    badElf(strndxField, "section name table index " + strndx.toString() + " out of range (" + e.shnum.toString() + " sections)");
    return null;
  }
  if (e.shType(strndx) != SHT_STRTAB) {
    badElf(e.fType(strndx), "section name table (section " + strndx.toString() + ") has type " + e.shType(strndx).toString() + ", not SHT_STRTAB");
    return null;
  }
  if (!checkRange(e, strndx)) return null;
  const strSize = e.shSize(strndx);
  const strOff = <u32>e.shOffset(strndx);
  if (strSize == 0 || load<u8>(mem + strOff + <u32>strSize - 1) != 0) {
    badElf(e.fSize(strndx), "section name table is empty or not NUL-terminated");
    return null;
  }
  e.shstrndx = strndx;
  e.shstrOff = strOff;
  e.shstrSize = <u32>strSize;

  for (let i: u32 = 1; i < e.shnum; i++) {
    if (e.shName(i) >= e.shstrSize) {
      badElf(e.fName(i), "section " + i.toString() + " name offset " + e.shName(i).toString() + " is outside the section name table (" + e.shstrSize.toString() + " bytes)");
      return null;
    }
    if (!checkRange(e, i)) return null;
  }
  return e;
}

/** [sh_offset, +sh_size) of a section with file data must lie inside the data. */
function checkRange(e: Elf, i: u32): bool {
  if (!e.hasData(i)) return true;
  const off = e.shOffset(i);
  const sz = e.shSize(i);
  if (off > <u64>e.size) return badElf(e.fOffset(i), "section " + i.toString() + " offset " + off.toString() + " is past the end of the file (" + e.size.toString() + " bytes)");
  if (sz > <u64>e.size - off) return badElf(e.fSize(i), "section " + i.toString() + " [" + off.toString() + ", +" + sz.toString() + ") runs past the end of the file (" + e.size.toString() + " bytes)");
  return true;
}

// ---- module signature -----------------------------------------------------

const SIG_MAGIC = "~Module signature appended~\n";
const SIG_MAGIC_LEN: u32 = 28;
/** struct module_signature: algo, hash, id_type, signer_len, key_id_len, __pad[3], __be32 sig_len. */
const MODSIG_LEN: u32 = 12;
const PKEY_ID_PKCS7: u32 = 2;

/**
 * Where the ELF data of a kernel module ends: the start of an appended
 * signature ([signature][struct module_signature][magic] at the end of the
 * file), or `len` when there is none. A trailer with the magic but a
 * module_signature the kernel's mod_check_sig would refuse gives -1 with
 * Err.BAD_ELF recorded.
 */
export function signatureStart(mem: usize, len: u32): i64 {
  if (len < SIG_MAGIC_LEN) return <i64>len;
  const m = mem + len - SIG_MAGIC_LEN;
  for (let i: u32 = 0; i < SIG_MAGIC_LEN; i++) {
    if (<u32>load<u8>(m + i) != <u32>SIG_MAGIC.charCodeAt(i)) return <i64>len;
  }
  const msOff = len - SIG_MAGIC_LEN;
  if (msOff < MODSIG_LEN) { badElf(0, "module signature trailer without its module_signature"); return -1; }
  const ms = mem + msOff - MODSIG_LEN;
  if (<u32>load<u8>(ms, 2) != PKEY_ID_PKCS7) {
    badElf(msOff - MODSIG_LEN + 2, "module signature id_type " + load<u8>(ms, 2).toString() + " is not PKCS#7");
    return -1;
  }
  for (let i: u32 = 0; i < 8; i++) {
    if (i != 2 && load<u8>(ms + i) != 0) {
      badElf(msOff - MODSIG_LEN + i, "module signature header has a non-zero byte at offset " + i.toString());
      return -1;
    }
  }
  const sigLen = bswap32(load<u32>(ms, 8)); // __be32
  const body = msOff - MODSIG_LEN;
  if (<u64>sigLen > <u64>body) {
    badElf(body + 8, "module signature length " + sigLen.toString() + " exceeds the file");
    return -1;
  }
  return <i64>(body - sigLen);
}

// ---- BTF sections ---------------------------------------------------------

/** One sub-section of .BTF.ext: header off/len (relative to the end of the ext header) and record size. */
export class ExtSub {
  off: u32 = 0;
  len: u32 = 0;
  recSize: u32 = 0;
}

/** What btf_find_elf_sections finds, plus .BTF_ids and the symbol table, and the parsed .BTF.ext header. */
export class BtfSections {
  btf: i32 = -1;
  ext: i32 = -1;
  base: i32 = -1;
  ids: i32 = -1;
  symtab: i32 = -1;
  strtab: i32 = -1;
  extHdrLen: u32 = 0;
  func: ExtSub = new ExtSub();
  line: ExtSub = new ExtSub();
  core: ExtSub = new ExtSub();
}

/**
 * Locate .BTF, .BTF.ext, .BTF.base (SHT_PROGBITS, last of a name wins, as
 * libbpf), .BTF_ids and .symtab/.strtab. Missing .BTF gives Err.NO_BTF.
 */
export function findBtfSections(e: Elf): BtfSections | null {
  const r = new BtfSections();
  for (let i: u32 = 1; i < e.shnum; i++) {
    const n = e.name(i);
    let which = 0;
    if (cstrEqLit(n, ".BTF")) which = 1;
    else if (cstrEqLit(n, ".BTF.ext")) which = 2;
    else if (cstrEqLit(n, ".BTF.base")) which = 3;
    else if (cstrEqLit(n, ".BTF_ids")) { r.ids = <i32>i; continue; }
    else continue;
    if (e.shType(i) != SHT_PROGBITS) {
      badElf(e.fType(i), e.describe(i) + " has type " + e.shType(i).toString() + ", not SHT_PROGBITS");
      return null;
    }
    if (which == 1) r.btf = <i32>i;
    else if (which == 2) r.ext = <i32>i;
    else r.base = <i32>i;
  }
  r.symtab = e.findType(SHT_SYMTAB);
  if (r.symtab >= 0) {
    const l = e.shLink(<u32>r.symtab);
    if (l != 0 && l < e.shnum && e.shType(l) == SHT_STRTAB) r.strtab = <i32>l;
  }
  if (r.btf < 0) {
    fail(Err.NO_BTF, -1, 0, "no .BTF section in the ELF file (" + e.shnum.toString() + " sections)");
    return null;
  }
  if (!checkMagicOrder(e, <u32>r.btf)) return null;
  if (r.base >= 0 && !checkMagicOrder(e, <u32>r.base)) return null;
  if (r.ext >= 0 && !parseBtfExt(e, <u32>r.ext, r)) return null;
  return r;
}

/**
 * A BTF section whose magic reads as the swapped value in the ELF's own
 * order was written for the other byte order: refuse. A magic that is
 * neither is left to the BTF parser, which reports it precisely.
 */
function checkMagicOrder(e: Elf, i: u32): bool {
  if (e.shSize(i) < 2) return true;
  const off = <u32>e.shOffset(i);
  if (e.u16(off) == BTF_MAGIC_SWAPPED) {
    return badElf(off, e.describe(i) + " is " + (e.bigEndian ? "little" : "big") + "-endian BTF in a " + (e.bigEndian ? "big" : "little") + "-endian ELF file");
  }
  return true;
}

@inline function badExt(off: u64, msg: string): bool {
  return fail(Err.BAD_BTF_EXT, <i64>off, 0, ".BTF.ext: " + msg);
}

/** libbpf btf_ext_parse + btf_ext_setup_info over the .BTF.ext section `i`. */
function parseBtfExt(e: Elf, i: u32, r: BtfSections): bool {
  const base = <u32>e.shOffset(i);
  const size = <u32>e.shSize(i);
  if (size < 8) return badExt(base + size, "header too short (" + size.toString() + " bytes)");
  const magic = e.u16(base);
  if (magic == BTF_MAGIC_SWAPPED) {
    return badElf(base, e.describe(i) + " is " + (e.bigEndian ? "little" : "big") + "-endian in a " + (e.bigEndian ? "big" : "little") + "-endian ELF file");
  }
  if (magic != BTF_MAGIC) return badExt(base, "bad magic 0x" + magic.toString(16));
  if (e.u8(base + 2) != 1) return badExt(base + 2, "unsupported version " + e.u8(base + 2).toString());
  if (e.u8(base + 3) != 0) return badExt(base + 3, "unsupported flags 0x" + e.u8(base + 3).toString(16));
  const hdrLen = e.u32(base + 4);
  if (<u64>size < <u64>hdrLen) return badExt(base + 4, "hdr_len " + hdrLen.toString() + " exceeds the section (" + size.toString() + " bytes)");
  if (size == hdrLen) return badExt(base + 4, "no data after the header");
  // func_info and line_info are mandatory header fields (offsetofend(line_info_len) = 24).
  if (hdrLen < 24) return badExt(base + 4, "hdr_len " + hdrLen.toString() + " lacks func_info/line_info");
  const hasCore = hdrLen >= 32;
  r.extHdrLen = hdrLen;
  r.func.off = e.u32(base + 8);
  r.func.len = e.u32(base + 12);
  r.line.off = e.u32(base + 16);
  r.line.len = e.u32(base + 20);
  if (hasCore) {
    r.core.off = e.u32(base + 24);
    r.core.len = e.u32(base + 28);
  }
  const infoSize = <u64>(size - hdrLen);
  if (infoSize & 3) return badExt(base + 4, "info size " + infoSize.toString() + " is not a multiple of 4");
  const total = <u64>r.func.len + <u64>r.line.len + <u64>r.core.len;
  if (total != infoSize) return badExt(base + 12, "sub-section lengths (" + total.toString() + ") do not add up to the info size (" + infoSize.toString() + ")");
  // libbpf on a little-endian host requires foreign-endian records of exactly the minimum size.
  const exact = e.bigEndian;
  if (!extSub(e, base, size, hdrLen, r.func, 8, exact, "func_info", base + 8)) return false;
  if (!extSub(e, base, size, hdrLen, r.line, 16, exact, "line_info", base + 16)) return false;
  if (hasCore && !extSub(e, base, size, hdrLen, r.core, 16, exact, "core_relo", base + 24)) return false;
  return true;
}

function extSub(e: Elf, base: u32, size: u32, hdrLen: u32, s: ExtSub, minRec: u32, exact: bool, what: string, field: u32): bool {
  if (s.len == 0) return true;
  if (s.off & 3) return badExt(field, what + " offset " + s.off.toString() + " is not 4-byte aligned");
  const start = <u64>hdrLen + <u64>s.off;
  if (start + <u64>s.len > <u64>size) return badExt(field, what + " [" + s.off.toString() + ", +" + s.len.toString() + ") is beyond the end of the section");
  if (s.len < 4) return badExt(field, what + " record size not found");
  const p = base + <u32>start;
  const rec = e.u32(p);
  if (rec < minRec || (rec & 3) != 0 || (exact && rec != minRec)) return badExt(p, what + " has invalid record size " + rec.toString());
  s.recSize = rec;
  let left = <u64>(s.len - 4);
  let q = p + 4;
  if (left == 0) return badExt(p, what + " has no records");
  while (left > 0) {
    if (left < 8) return badExt(q, what + " section header not found");
    const n = e.u32(q + 4);
    if (n == 0) return badExt(q + 4, what + " section has no records");
    const t = 8 + <u64>n * <u64>rec;
    if (t > left) return badExt(q + 4, what + " section has incorrect num_records " + n.toString());
    left -= t;
    q += <u32>t;
  }
  return true;
}

