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
// Writing (replaceSections) and the .BTF_ids remap (remapBtfIds) are below;
// each explains its layout decisions.

import { Err, fail } from "./errors";
import { bswap16, bswap32, bswap64, cstrEqLit } from "./bytes";
import { ByteSink } from "./sink";

export const SHT_NULL: u32 = 0;
export const SHT_PROGBITS: u32 = 1;
export const SHT_SYMTAB: u32 = 2;
export const SHT_STRTAB: u32 = 3;
export const SHT_NOBITS: u32 = 8;
export const SHT_SYMTAB_SHNDX: u32 = 18;
export const SHF_ALLOC: u64 = 2;
const SHN_LORESERVE: u32 = 0xff00;
const SHN_XINDEX: u32 = 0xffff;
const PN_XNUM: u32 = 0xffff;
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
const PHDR32: u32 = 32;
const PHDR64: u32 = 56;
const SYM32: u32 = 16;
const SYM64: u32 = 24;

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
    return "section " + i.toString() + " (" + String.UTF8.decodeUnsafe(this.name(i), <usize>cstrlenAt(this.name(i)), false) + ")";
  }
}

function cstrlenAt(p: usize): u32 {
  let n: u32 = 0;
  while (load<u8>(p + n) != 0) n++;
  return n;
}

@inline function badElf(off: u64, msg: string): bool {
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

// ---- writing ----------------------------------------------------------------

/** A section to replace or add: its name and new contents, all in wasm memory. */
export class SectionEdit {
  name: usize = 0;
  data: usize = 0;
  len: u32 = 0;
  /** Existing section index, or -1 when the section is new. */
  index: i32 = -1;
  newOff: u64 = 0;
}

/** Set by replaceSections: the input ended in a module signature that the output no longer carries. */
export let lastDroppedSignature: bool = false;

@inline function alignUp(v: u64, a: u64): u64 { return (v + a - 1) & ~(a - 1); }

/**
 * A copy of the ELF at [mem, mem+len) with the named sections' contents
 * replaced, or added when absent, written to `out`.
 *
 * Layout: every byte from the start of the file up to the end of the last
 * thing we keep in place (ELF header, program headers and segments, every
 * section that is not replaced) is copied unchanged, so section indices,
 * offsets, alignment and contents of all other sections, and therefore
 * symbols (st_shndx), relocation sections (sh_info/sh_link) and groups, stay
 * valid. After it come the replaced and added contents (each at its
 * sh_addralign), then a grown .shstrtab when new names were needed (the old
 * names keep their offsets: new names are appended), then a new section
 * header table (aligned to the class's word) with new sections at the end.
 * What lay beyond the kept data is dropped: the old section header table,
 * replaced contents that were last in the file, and an appended module
 * signature. Replaced contents in the middle of the file stay as unused
 * bytes, which is valid ELF and avoids moving anything.
 *
 * The module signature is dropped on purpose and reported through
 * `lastDroppedSignature`: it signs the exact original bytes, so it could
 * only fail verification (the kernel refuses a module whose signature does
 * not verify more firmly than an unsigned one, which merely taints it).
 *
 * Refused: replacing SHF_ALLOC sections of files with program headers (their
 * file offsets are tied to segments), NOBITS sections, and the section name
 * table itself.
 */
export function replaceSections(mem: usize, len: u32, edits: Array<SectionEdit>, out: ByteSink): bool {
  lastDroppedSignature = false;
  const sigStart = signatureStart(mem, len);
  if (sigStart < 0) return false;
  const elfEnd = <u32>sigStart;
  const e = parseElf(mem, elfEnd);
  if (e === null) return false;
  if (e.shnum == 0) return fail(Err.UNSUPPORTED, e.fShoff(), 0, "the ELF file has no section header table to edit");

  // Resolve names to sections.
  let newNames = 0;
  for (let k = 0; k < edits.length; k++) {
    const ed = edits[k];
    if (load<u8>(ed.name) == 0) return fail(Err.USAGE, -1, 0, "empty section name");
    for (let j = 0; j < k; j++) {
      if (cstrEqual(edits[j].name, ed.name)) return fail(Err.USAGE, -1, 0, "section " + cstr(ed.name) + " given twice");
    }
    let idx: i32 = -1;
    for (let i: u32 = 1; i < e.shnum; i++) if (cstrEqual(e.name(i), ed.name)) idx = <i32>i;
    ed.index = idx;
    if (idx < 0) { newNames++; continue; }
    const i = <u32>idx;
    if (i == e.shstrndx) return fail(Err.USAGE, e.fName(i), 0, "cannot replace the section name table " + e.describe(i));
    if (!e.hasData(i)) return fail(Err.USAGE, e.fType(i), 0, "cannot replace " + e.describe(i) + ": it has no file data (type " + e.shType(i).toString() + ")");
  }

  // Program headers: kept in place with the segments they describe.
  let keptEnd: u64 = <u64>e.ehsize();
  const phoff = e.word(e.fPhoff());
  let phnum = e.u16(e.fPhnum());
  if (phnum == PN_XNUM) phnum = e.shInfo(0);
  if (phnum > 0) {
    const phentsize = e.u16(e.fPhentsize());
    const want = e.is64 ? PHDR64 : PHDR32;
    if (phentsize != want) return badElf(e.fPhentsize(), "e_phentsize " + phentsize.toString() + " (want " + want.toString() + ")");
    const phEnd = phoff + <u64>phnum * <u64>phentsize;
    if (phoff > <u64>elfEnd || phEnd > <u64>elfEnd) return badElf(e.fPhoff(), "program header table runs past the end of the ELF data");
    keptEnd = max<u64>(keptEnd, phEnd);
    for (let p: u32 = 0; p < phnum; p++) {
      const h = <u32>phoff + p * phentsize;
      const off = e.is64 ? e.u64(h + 8) : <u64>e.u32(h + 4);
      const filesz = e.is64 ? e.u64(h + 32) : <u64>e.u32(h + 16);
      if (off > <u64>elfEnd || filesz > <u64>elfEnd - off) return badElf(h, "segment " + p.toString() + " runs past the end of the ELF data");
      keptEnd = max<u64>(keptEnd, off + filesz);
    }
    for (let k = 0; k < edits.length; k++) {
      const ed = edits[k];
      if (ed.index >= 0 && (e.shFlags(<u32>ed.index) & SHF_ALLOC) != 0) {
        return fail(Err.UNSUPPORTED, e.fFlags(<u32>ed.index), 0, "cannot move " + e.describe(<u32>ed.index) + ": it is allocated in a file with program headers");
      }
    }
  }

  for (let i: u32 = 1; i < e.shnum; i++) {
    if (isEdited(edits, i) || (i == e.shstrndx && newNames > 0)) continue;
    const off = e.shOffset(i);
    if (e.hasData(i)) keptEnd = max<u64>(keptEnd, off + e.shSize(i));
    else if (off <= <u64>elfEnd) keptEnd = max<u64>(keptEnd, off);
  }

  // Where the new contents go.
  let pos = keptEnd;
  for (let i: u32 = 1; i < e.shnum; i++) {
    const ed = editFor(edits, i);
    if (ed === null) continue;
    let a = e.shAlign(i);
    if (a == 0) a = 1;
    if ((a & (a - 1)) != 0) return badElf(e.fAlign(i), e.describe(i) + " alignment " + a.toString() + " is not a power of two");
    if (a > 0x10000) return fail(Err.UNSUPPORTED, e.fAlign(i), 0, e.describe(i) + " alignment " + a.toString() + " is too large to move");
    pos = alignUp(pos, a);
    ed.newOff = pos;
    pos += <u64>ed.len;
  }
  for (let k = 0; k < edits.length; k++) {
    const ed = edits[k];
    if (ed.index >= 0) continue;
    ed.newOff = pos; // sh_addralign 1, as pahole adds .BTF.base
    pos += <u64>ed.len;
  }
  let shstrOff: u64 = <u64>e.shstrOff;
  let shstrSize: u64 = <u64>e.shstrSize;
  if (newNames > 0) {
    shstrOff = pos;
    for (let k = 0; k < edits.length; k++) if (edits[k].index < 0) shstrSize += <u64>cstrlenAt(edits[k].name) + 1;
    pos += shstrSize;
  }
  const entAlign: u64 = e.is64 ? 8 : 4;
  const newShoff = alignUp(pos, entAlign);
  const total = <u32>e.shnum + <u32>newNames;
  const end = newShoff + <u64>total * <u64>e.shentsize;
  if (end > 0x7fff0000) return fail(Err.TOO_LARGE, -1, 0, "the new ELF file would be " + end.toString() + " bytes");

  // Emit.
  out.reserve(<u32>end);
  out.bytes(mem, <u32>keptEnd);
  for (let i: u32 = 1; i < e.shnum; i++) {
    const ed = editFor(edits, i);
    if (ed === null) continue;
    padTo(out, ed.newOff);
    out.bytes(ed.data, ed.len);
  }
  const nameOffs = new Array<u32>(edits.length);
  for (let k = 0; k < edits.length; k++) {
    const ed = edits[k];
    if (ed.index >= 0) continue;
    padTo(out, ed.newOff);
    out.bytes(ed.data, ed.len);
  }
  if (newNames > 0) {
    padTo(out, shstrOff);
    out.bytes(mem + e.shstrOff, e.shstrSize);
    for (let k = 0; k < edits.length; k++) {
      if (edits[k].index >= 0) continue;
      nameOffs[k] = out.len - <u32>shstrOff;
      out.cstr(edits[k].name);
      out.byte(0);
    }
  }
  padTo(out, newShoff);
  const tab = out.len;
  out.bytes(mem + e.shoff, e.shnum * e.shentsize);
  const w = new Writer(out.ptr, e.bigEndian, e.is64);
  for (let i: u32 = 1; i < e.shnum; i++) {
    const ed = editFor(edits, i);
    const h = tab + i * e.shentsize;
    if (ed !== null) {
      w.word(h + (e.is64 ? 24 : 16), ed.newOff);
      w.word(h + (e.is64 ? 32 : 20), <u64>ed.len);
    } else if (i == e.shstrndx && newNames > 0) {
      w.word(h + (e.is64 ? 24 : 16), shstrOff);
      w.word(h + (e.is64 ? 32 : 20), shstrSize);
    }
  }
  for (let k = 0; k < edits.length; k++) {
    const ed = edits[k];
    if (ed.index >= 0) continue;
    const h = out.len;
    out.reserve(e.shentsize);
    memory.fill(out.ptr + h, 0, e.shentsize);
    out.len += e.shentsize;
    const w2 = new Writer(out.ptr, e.bigEndian, e.is64);
    w2.u32(h, nameOffs[k]);
    w2.u32(h + 4, SHT_PROGBITS);
    w2.word(h + (e.is64 ? 24 : 16), ed.newOff);
    w2.word(h + (e.is64 ? 32 : 20), <u64>ed.len);
    w2.word(h + (e.is64 ? 48 : 32), 1);
  }
  // The header: new table position and count (extended numbering past SHN_LORESERVE).
  const wh = new Writer(out.ptr, e.bigEndian, e.is64);
  wh.word(e.fShoff(), newShoff);
  if (total >= SHN_LORESERVE) {
    wh.u16(e.fShnum(), 0);
    wh.word(tab + (e.is64 ? 32 : 20), <u64>total);
  } else {
    wh.u16(e.fShnum(), total);
  }
  lastDroppedSignature = elfEnd < len;
  return true;
}

function isEdited(edits: Array<SectionEdit>, i: u32): bool { return editFor(edits, i) !== null; }

function editFor(edits: Array<SectionEdit>, i: u32): SectionEdit | null {
  for (let k = 0; k < edits.length; k++) if (edits[k].index == <i32>i) return edits[k];
  return null;
}

function padTo(out: ByteSink, off: u64): void {
  const n = <u32>off - out.len;
  if (n > 0) out.repeat(0, n);
}

function cstrEqual(a: usize, b: usize): bool {
  let i: usize = 0;
  while (true) {
    const x = load<u8>(a + i);
    if (x != load<u8>(b + i)) return false;
    if (x == 0) return true;
    i++;
  }
}

function cstr(p: usize): string { return String.UTF8.decodeUnsafe(p, <usize>cstrlenAt(p), false); }

/** Stores in the file's byte order at offsets of a buffer. */
class Writer {
  constructor(public base: usize, public big: bool, public is64: bool) {}
  u16(off: u32, v: u32): void { store<u16>(this.base + off, <u16>(this.big ? bswap16(v) : v)); }
  u32(off: u32, v: u32): void { store<u32>(this.base + off, this.big ? bswap32(v) : v); }
  u64(off: u32, v: u64): void { store<u64>(this.base + off, this.big ? bswap64(v) : v); }
  word(off: u32, v: u64): void { if (this.is64) this.u64(off, v); else this.u32(off, <u32>v); }
}

// ---- .BTF_ids ----------------------------------------------------------------

const KIND_ID: u32 = 1;
const KIND_SET: u32 = 2;
const KIND_SET8: u32 = 3;

/**
 * Rewrite the type ids in .BTF_ids through `map` (u32 per old id: the new
 * id, 0 = unmapped), in place in [e.mem, e.mem+e.size). Returns how many ids
 * were rewritten, 0 when there is no .BTF_ids, -1 on error.
 *
 * Ids are located as kbuild's resolve_btfids locates them: symbols named
 * __BTF_ID__{struct,union,typedef,func}__<name>__<n> whose st_shndx is
 * .BTF_ids and whose st_value (minus sh_addr, 0 in ET_REL) is the offset of
 * a u32 id. __BTF_ID__set__<name> points at a struct btf_id_set (u32 cnt,
 * then cnt ids) and __BTF_ID__set8__<name> at a struct btf_id_set8 (u32 cnt,
 * u32 flags, then cnt {u32 id, u32 flags}); their headers and the set8 flags
 * are not ids. Every id slot of a set is rewritten too, even one without its
 * own symbol: resolve_btfids sorts sets after patching, so a set's slots no
 * longer line up with the symbols that named them. Afterwards each set is
 * sorted by id again, as resolve_btfids leaves it (the kernel bsearches
 * them). An id of 0 (unresolved, or BTF_ID_UNUSED) stays 0. A non-zero id
 * with no mapping is an error naming its symbol.
 */
export function remapBtfIds(e: Elf, map: usize, mapLen: u32): i64 {
  const ids = e.findSection(".BTF_ids");
  if (ids < 0) return 0;
  const idsIdx = <u32>ids;
  if (!e.hasData(idsIdx)) { badElf(e.fType(idsIdx), e.describe(idsIdx) + " has no file data"); return -1; }
  const idsOff = <u32>e.shOffset(idsIdx);
  const idsSize = <u32>e.shSize(idsIdx);
  const idsAddr = e.shAddr(idsIdx);
  const st = e.findType(SHT_SYMTAB);
  if (st < 0) { badElf(e.fName(idsIdx), "the file has .BTF_ids but no symbol table to locate its ids"); return -1; }
  const symIdx = <u32>st;
  const entsize = e.is64 ? SYM64 : SYM32;
  if (e.shEntsize(symIdx) != <u64>entsize) { badElf(e.fEntsize(symIdx), e.describe(symIdx) + " sh_entsize " + e.shEntsize(symIdx).toString() + " (want " + entsize.toString() + ")"); return -1; }
  const symOff = <u32>e.shOffset(symIdx);
  const symSize = <u32>e.shSize(symIdx);
  if (symSize % entsize != 0) { badElf(e.fSize(symIdx), e.describe(symIdx) + " size is not a multiple of its entry size"); return -1; }
  const nsyms = symSize / entsize;
  const strIdx = e.shLink(symIdx);
  if (strIdx == 0 || strIdx >= e.shnum || e.shType(strIdx) != SHT_STRTAB) { badElf(e.fLink(symIdx), e.describe(symIdx) + " links to section " + strIdx.toString() + ", not a string table"); return -1; }
  const strOff = <u32>e.shOffset(strIdx);
  const strSize = <u32>e.shSize(strIdx);
  // st_shndx == SHN_XINDEX: the index is in the SHT_SYMTAB_SHNDX section linked to this table.
  let xOff: u32 = 0;
  let xCount: u32 = 0;
  for (let i: u32 = 1; i < e.shnum; i++) {
    if (e.shType(i) == SHT_SYMTAB_SHNDX && e.shLink(i) == symIdx) {
      xOff = <u32>e.shOffset(i);
      xCount = <u32>(e.shSize(i) >> 2);
    }
  }

  const ctx = new RemapCtx(e, idsOff, idsSize, map, mapLen);
  const ok = remapSlots(ctx, idsIdx, idsAddr, symOff, nsyms, strOff, strSize, xOff, xCount);
  ctx.dispose();
  return ok ? <i64>ctx.count : -1;
}

function remapSlots(ctx: RemapCtx, idsIdx: u32, idsAddr: u64, symOff: u32, nsyms: u32, strOff: u32, strSize: u32, xOff: u32, xCount: u32): bool {
  const e = ctx.e;
  const idsOff = ctx.idsOff;
  const idsSize = ctx.idsSize;
  const entsize = e.is64 ? SYM64 : SYM32;
  const nend = strOff + strSize;
  const sets = new Array<u32>(); // triples: offset in section, kind, name offset
  for (let s: u32 = 1; s < nsyms; s++) {
    const p = symOff + s * entsize;
    let shndx = e.u16(p + (e.is64 ? 6 : 14));
    if (shndx == SHN_XINDEX) {
      if (s >= xCount) return badElf(p + (e.is64 ? 6 : 14), "symbol " + s.toString() + " has an extended section index but no SHT_SYMTAB_SHNDX entry");
      shndx = e.u32(xOff + s * 4);
    } else if (shndx >= SHN_LORESERVE) continue;
    if (shndx != idsIdx) continue;
    const nameOff = e.u32(p);
    if (nameOff >= strSize) return badElf(p, "symbol " + s.toString() + " name offset " + nameOff.toString() + " is outside its string table");
    const np = strOff + nameOff;
    if (!startsWith(e, np, nend, "__BTF_ID__")) continue;
    const rest = np + 10;
    let kind: u32 = 0;
    if (startsWith(e, rest, nend, "struct") || startsWith(e, rest, nend, "union") ||
        startsWith(e, rest, nend, "typedef") || startsWith(e, rest, nend, "func")) kind = KIND_ID;
    else if (startsWith(e, rest, nend, "set8")) kind = KIND_SET8;
    else if (startsWith(e, rest, nend, "set")) kind = KIND_SET;
    else return fail(Err.UNSUPPORTED, <i64>np, 0, "unsupported .BTF_ids symbol " + boundedName(e, np, nend));
    const vf = p + (e.is64 ? 8 : 4);
    const value = e.word(vf);
    if (value < idsAddr || value - idsAddr >= <u64>idsSize || ((value - idsAddr) & 3) != 0) {
      return badElf(vf, "symbol " + boundedName(e, np, nend) + " does not point at a u32 slot of .BTF_ids");
    }
    const rel = <u32>(value - idsAddr);
    if (kind == KIND_ID) {
      if (rel + 4 > idsSize) return badElf(vf, "symbol " + boundedName(e, np, nend) + " points past the end of .BTF_ids");
      if (!ctx.remap(rel >> 2, np, nend, -1)) return false;
    } else {
      sets.push(rel);
      sets.push(kind);
      sets.push(np);
    }
  }
  // Set members, then sort each set by id.
  for (let k = 0; k < sets.length; k += 3) {
    const rel = sets[k];
    const kind = sets[k + 1];
    const np = sets[k + 2];
    const hdr: u32 = kind == KIND_SET8 ? 8 : 4;
    const stride: u32 = kind == KIND_SET8 ? 8 : 4;
    if (<u64>rel + <u64>hdr > <u64>idsSize) return badElf(idsOff + rel, "set " + boundedName(e, np, nend) + " header runs past the end of .BTF_ids");
    const cnt = e.u32(idsOff + rel);
    if (<u64>rel + <u64>hdr + <u64>cnt * <u64>stride > <u64>idsSize) {
      return badElf(idsOff + rel, "set " + boundedName(e, np, nend) + " with " + cnt.toString() + " entries runs past the end of .BTF_ids");
    }
    const first = (rel + hdr) >> 2;
    for (let j: u32 = 0; j < cnt; j++) {
      if (!ctx.remap(first + j * (stride >> 2), np, nend, <i32>j)) return false;
    }
    sortSet(e, idsOff + rel + hdr, cnt, kind == KIND_SET8);
  }
  return true;
}

class RemapCtx {
  /** One bit per u32 slot of .BTF_ids: already rewritten. */
  done: usize;
  count: u32 = 0;
  w: Writer;
  constructor(public e: Elf, public idsOff: u32, public idsSize: u32, public map: usize, public mapLen: u32) {
    this.w = new Writer(e.mem, e.bigEndian, e.is64);
    const bytes = ((idsSize >> 2) + 8) >> 3;
    this.done = heap.alloc(bytes);
    memory.fill(this.done, 0, bytes);
  }

  /** Rewrite slot `slot` once. `member` >= 0: the member index of the set symbol named at np. */
  remap(slot: u32, np: u32, nend: u32, member: i32): bool {
    const b = this.done + (slot >> 3);
    const bit: u32 = <u32>1 << (slot & 7);
    const cur = <u32>load<u8>(b);
    if (cur & bit) return true;
    store<u8>(b, <u8>(cur | bit));
    const off = this.idsOff + (slot << 2);
    const v = this.e.u32(off);
    if (v == 0) return true;
    const nv = v < this.mapLen ? load<u32>(this.map + (<usize>v << 2)) : 0;
    if (nv == 0) {
      const who = boundedName(this.e, np, nend) + (member >= 0 ? "[" + member.toString() + "]" : "");
      return fail(Err.BAD_TYPE_ID, <i64>off, v, "type id " + v.toString() + " in .BTF_ids (" + who + ") has no mapping");
    }
    this.w.u32(off, nv);
    this.count++;
    return true;
  }

  dispose(): void {
    if (this.done != 0) heap.free(this.done);
    this.done = 0;
  }
}

/** Sort a set's ids (or set8's {id, flags} pairs by id) in place, in the file's byte order. */
function sortSet(e: Elf, off: u32, cnt: u32, pairs: bool): void {
  if (cnt < 2) return;
  const w = new Writer(e.mem, e.bigEndian, e.is64);
  if (!pairs) {
    const a = new StaticArray<u32>(cnt);
    for (let i: u32 = 0; i < cnt; i++) a[i] = e.u32(off + i * 4);
    a.sort();
    for (let i: u32 = 0; i < cnt; i++) w.u32(off + i * 4, a[i]);
    return;
  }
  const a = new StaticArray<u64>(cnt);
  for (let i: u32 = 0; i < cnt; i++) a[i] = (<u64>e.u32(off + i * 8) << 32) | <u64>e.u32(off + i * 8 + 4);
  a.sort();
  for (let i: u32 = 0; i < cnt; i++) {
    w.u32(off + i * 8, <u32>(a[i] >> 32));
    w.u32(off + i * 8 + 4, <u32>a[i]);
  }
}

/** Does the string at file offset p (bounded by end) start with the ASCII literal? */
function startsWith(e: Elf, p: u32, end: u32, s: string): bool {
  const n = <u32>s.length;
  if (<u64>p + <u64>n > <u64>end) return false;
  for (let i: u32 = 0; i < n; i++) {
    if (e.u8(p + i) != <u32>s.charCodeAt(i)) return false;
  }
  return true;
}

/** A symbol name for messages, cut at its NUL or at the end of its table. */
function boundedName(e: Elf, p: u32, end: u32): string {
  let n: u32 = 0;
  while (p + n < end && e.u8(p + n) != 0 && n < 200) n++;
  return String.UTF8.decodeUnsafe(e.mem + p, <usize>n, false);
}
