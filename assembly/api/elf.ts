// Exports for ELF containers (assembly/elf.ts). The host copies the file
// into wasm memory (memAlloc) and passes (ptr, len); results come back in the
// result sink as little-endian records described at each function.

import { Err, fail, clearError } from "../errors";
import { newResult, getBtf } from "../handles";
import { parseElf, findBtfSections, signatureStart, ExtSub } from "../elf";
import { replaceSections, SectionEdit, lastDroppedSignature } from "../elf_rewrite";
import { remapBtfIds } from "../btf_ids";
import { IdMap } from "../idmap";
import { cstrlen } from "../bytes";
import { ByteSink } from "../sink";

/**
 * The section table. Result: a 32-byte header of u32 {count, class (32|64),
 * bigEndian, e_type, e_machine, shstrndx, elfEnd (where an appended module
 * signature starts, else the length), signed (1 when a well-formed module
 * signature is appended)}, then `count` 64-byte records {u32 nameOff, u32
 * type, u64 flags, u64 addr, u64 offset, u64 size, u32 link, u32 info, u64
 * align, u64 entsize}, then the names, NUL-terminated, nameOff counting from
 * the first of them.
 */
export function elfSectionList(ptr: usize, len: u32): bool {
  clearError();
  const e = parseElf(ptr, len);
  if (e === null) return false;
  let sig = signatureStart(ptr, len);
  if (sig < 0) { clearError(); sig = <i64>len; }
  const n = e.shnum;
  const s = newResult(32 + n * 64 + 64);
  s.u32le(n);
  s.u32le(e.is64 ? 64 : 32);
  s.u32le(e.bigEndian ? 1 : 0);
  s.u32le(e.type);
  s.u32le(e.machine);
  s.u32le(e.shstrndx);
  s.u32le(<u32>sig);
  s.u32le(<u32>sig < len ? 1 : 0);
  let nameOff: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    s.u32le(nameOff);
    s.u32le(e.shType(i));
    u64le(s, e.shFlags(i));
    u64le(s, e.shAddr(i));
    u64le(s, e.shOffset(i));
    u64le(s, e.shSize(i));
    s.u32le(e.shLink(i));
    s.u32le(e.shInfo(i));
    u64le(s, e.shAlign(i));
    u64le(s, e.shEntsize(i));
    nameOff += i == 0 ? 1 : cstrlen(e.name(i)) + 1;
  }
  for (let i: u32 = 0; i < n; i++) {
    if (i > 0) s.cstr(e.name(i));
    s.byte(0);
  }
  return true;
}

function u64le(s: ByteSink, v: u64): void {
  s.u32le(<u32>v);
  s.u32le(<u32>(v >> 32));
}

/**
 * The BTF sections (libbpf btf_find_elf_sections) with the .BTF.ext header.
 * Result: 33 u32: {class, bigEndian, e_type, e_machine, shnum}, then
 * {index (0xffffffff when absent), offset, size} for .BTF, .BTF.ext,
 * .BTF.base, .BTF_ids, .symtab, .strtab, then the .BTF.ext hdr_len and
 * {off, len, record size} of func_info, line_info and core_relo (off is
 * relative to the end of the .BTF.ext header, as in the header).
 * Errors: NO_BTF, BAD_ELF, BAD_BTF_EXT.
 */
export function elfBtfInfo(ptr: usize, len: u32): bool {
  clearError();
  const e = parseElf(ptr, len);
  if (e === null) return false;
  const r = findBtfSections(e);
  if (r === null) return false;
  const s = newResult(33 * 4);
  s.u32le(e.is64 ? 64 : 32);
  s.u32le(e.bigEndian ? 1 : 0);
  s.u32le(e.type);
  s.u32le(e.machine);
  s.u32le(e.shnum);
  const idx: StaticArray<i32> = [r.btf, r.ext, r.base, r.ids, r.symtab, r.strtab];
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k];
    if (i < 0) {
      s.u32le(0xffffffff); s.u32le(0); s.u32le(0);
    } else {
      s.u32le(<u32>i);
      // NOBITS sections (a .symtab cannot be, .BTF_ids could) have no bytes to point at.
      const has = e.hasData(<u32>i);
      s.u32le(has ? <u32>e.shOffset(<u32>i) : 0);
      s.u32le(has ? <u32>e.shSize(<u32>i) : 0);
    }
  }
  s.u32le(r.extHdrLen);
  sub(s, r.func);
  sub(s, r.line);
  sub(s, r.core);
  return true;
}

function sub(s: ByteSink, x: ExtSub): void {
  s.u32le(x.off);
  s.u32le(x.len);
  s.u32le(x.recSize);
}

/**
 * Replace or add sections. `spec` holds `count` records of u32 {namePtr (C
 * string), dataPtr, dataLen}. Result: the new file. elfDroppedSignature()
 * tells whether the input's module signature was left out.
 */
export function elfReplaceSections(ptr: usize, len: u32, spec: usize, count: u32): bool {
  clearError();
  if (count > 64) return fail(Err.USAGE, -1, 0, "too many sections to replace (" + count.toString() + ")");
  const edits = new Array<SectionEdit>();
  for (let k: u32 = 0; k < count; k++) {
    const ed = new SectionEdit();
    const p = spec + <usize>k * 12;
    ed.name = <usize>load<u32>(p);
    ed.data = <usize>load<u32>(p, 4);
    ed.len = load<u32>(p, 8);
    edits.push(ed);
  }
  const s = newResult(len + 4096);
  return replaceSections(ptr, len, edits, s);
}

export function elfDroppedSignature(): bool { return lastDroppedSignature; }

/**
 * Rewrite the ids of .BTF_ids in place in [ptr, ptr+len) through the u32 map
 * at mapPtr (mapLen entries, indexed by old id, 0 = unmapped). Returns the
 * number of ids rewritten, or -1. On failure the buffer is partly rewritten.
 */
export function elfRemapBtfIds(ptr: usize, len: u32, mapPtr: usize, mapLen: u32): f64 {
  clearError();
  const e = parseElf(ptr, len);
  if (e === null) return -1;
  return <f64>remapBtfIds(e, IdMap.view(mapPtr, mapLen));
}

/**
 * libbpf's btf_parse_elf sets the pointer size of BTF read from an ELF file
 * from the ELF class (4 or 8) instead of guessing it from a `long` type.
 */
export function elfSetBtfPointerSize(h: i32, size: i32): bool {
  clearError();
  const b = getBtf(h);
  if (b === null) return false;
  if (size != 4 && size != 8) return fail(Err.USAGE, -1, 0, "pointer size " + size.toString() + " is not 4 or 8");
  b.ptrSizeCache = size;
  return true;
}
