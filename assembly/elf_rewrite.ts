// Rewriting ELF containers of BTF: a copy of the file with named sections'
// contents replaced or added (replaceSections), leaving everything else
// where it was. Reading and validation are in elf.ts.

import { Err, fail } from "./errors";
import { bswap16, bswap32, bswap64, cstreq, cstrlen, cstrToString } from "./bytes";
import { ByteSink } from "./sink";
import { PHDR32, PHDR64, PN_XNUM, SHF_ALLOC, SHN_LORESERVE, SHT_PROGBITS, badElf, parseElf, signatureStart } from "./elf";


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
      if (cstreq(edits[j].name, ed.name)) return fail(Err.USAGE, -1, 0, "section " + cstrToString(ed.name) + " given twice");
    }
    let idx: i32 = -1;
    for (let i: u32 = 1; i < e.shnum; i++) if (cstreq(e.name(i), ed.name)) idx = <i32>i;
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
    for (let k = 0; k < edits.length; k++) if (edits[k].index < 0) shstrSize += <u64>cstrlen(edits[k].name) + 1;
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

/** Stores in the file's byte order at offsets of a buffer. */
export class Writer {
  constructor(public base: usize, public big: bool, public is64: bool) {}
  u16(off: u32, v: u32): void { store<u16>(this.base + off, <u16>(this.big ? bswap16(v) : v)); }
  u32(off: u32, v: u32): void { store<u32>(this.base + off, this.big ? bswap32(v) : v); }
  u64(off: u32, v: u64): void { store<u64>(this.base + off, this.big ? bswap64(v) : v); }
  word(off: u32, v: u64): void { if (this.is64) this.u64(off, v); else this.u32(off, <u32>v); }
}

