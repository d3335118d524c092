// ELF containers of BTF: a thin layer over the core (assembly/elf.ts), which
// reads and validates the ELF, finds the BTF sections, writes edited copies
// and remaps .BTF_ids. This file only moves bytes in and out and turns the
// core's records into objects.

import { Btf, ParseOptions, SourceInfo } from "./btf.js";
import { BtfError } from "./errors.js";
import { relocate } from "./transform.js";
import { guard, copyIn, copyInCString, takeResult, lastError, CoreExports } from "./core.js";

export interface ElfSection {
  index: number;
  name: string;
  /** sh_type (1 PROGBITS, 2 SYMTAB, 3 STRTAB, 8 NOBITS, ...). */
  type: number;
  flags: number;
  /** sh_addr: kernel virtual addresses do not fit a double exactly. */
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  align: number;
  entsize: number;
}

export interface ElfHeaderInfo {
  class: 32 | 64;
  endian: "little" | "big";
  /** e_type: 1 REL (.ko, .o), 2 EXEC (vmlinux), 3 DYN. */
  type: number;
  machine: number;
}

export interface ElfLayout extends ElfHeaderInfo {
  sections: ElfSection[];
  shstrndx: number;
  /** An appended kernel module signature: where it starts and how many bytes it takes. */
  signature?: { offset: number; length: number };
}

export interface ElfSectionRef { index: number; offset: number; size: number }

export interface BtfExtSub { off: number; len: number; recordSize: number }

/** Where the BTF of an ELF file lies (libbpf btf_find_elf_sections), with the .BTF.ext header. */
export interface ElfBtfSections extends ElfHeaderInfo {
  btf: ElfSectionRef;
  btfExt?: ElfSectionRef & { hdrLen: number; funcInfo: BtfExtSub; lineInfo: BtfExtSub; coreRelo: BtfExtSub };
  btfBase?: ElfSectionRef;
  btfIds?: ElfSectionRef;
  symtab?: ElfSectionRef;
  strtab?: ElfSectionRef;
}

/** Copy the file in, run `fn` on (ptr, len), free it again. */
function withFile<T>(bytes: Uint8Array, fn: (c: CoreExports, ptr: number, len: number) => T): T {
  return guard((c) => {
    const ptr = copyIn(bytes, c);
    try {
      return fn(c, ptr, bytes.length);
    } finally {
      c.memFree(ptr);
    }
  });
}

function dv(b: Uint8Array): DataView { return new DataView(b.buffer, b.byteOffset, b.byteLength); }

function header(cls: number, big: number, type: number, machine: number): ElfHeaderInfo {
  return { class: cls === 64 ? 64 : 32, endian: big ? "big" : "little", type, machine };
}

/** The section header table of an ELF file (vmlinux, .ko, BPF .o), validated. */
export function readElf(bytes: Uint8Array): ElfLayout {
  const raw = withFile(bytes, (c, ptr, len) => {
    if (!c.elfSectionList(ptr, len)) throw lastError(c);
    return takeResult(c);
  });
  const v = dv(raw);
  const n = v.getUint32(0, true);
  const names = 32 + n * 64;
  const dec = new TextDecoder();
  const sections: ElfSection[] = [];
  for (let i = 0; i < n; i++) {
    const r = 32 + i * 64;
    const nameStart = names + v.getUint32(r, true);
    let nameEnd = nameStart;
    while (raw[nameEnd] !== 0) nameEnd++;
    sections.push({
      index: i,
      name: dec.decode(raw.subarray(nameStart, nameEnd)),
      type: v.getUint32(r + 4, true),
      flags: Number(v.getBigUint64(r + 8, true)),
      addr: v.getBigUint64(r + 16, true),
      offset: Number(v.getBigUint64(r + 24, true)),
      size: Number(v.getBigUint64(r + 32, true)),
      link: v.getUint32(r + 40, true),
      info: v.getUint32(r + 44, true),
      align: Number(v.getBigUint64(r + 48, true)),
      entsize: Number(v.getBigUint64(r + 56, true)),
    });
  }
  const sigStart = v.getUint32(24, true);
  return {
    ...header(v.getUint32(4, true), v.getUint32(8, true), v.getUint32(12, true), v.getUint32(16, true)),
    sections,
    shstrndx: v.getUint32(20, true),
    signature: v.getUint32(28, true) ? { offset: sigStart, length: bytes.length - sigStart } : undefined,
  };
}

/** Just the sections: name, type, offset, size, flags, align, ... */
export function elfSections(bytes: Uint8Array): ElfSection[] {
  return readElf(bytes).sections;
}

/** Find the BTF sections of an ELF file. Throws NO_BTF, BAD_ELF or BAD_BTF_EXT. */
export function elfBtfSections(bytes: Uint8Array): ElfBtfSections {
  return withFile(bytes, (c, ptr, len) => elfBtfSectionsAt(c, ptr, len));
}

/** @internal elfBtfSections of a file already in the core's memory at [ptr, ptr+len). */
export function elfBtfSectionsAt(c: CoreExports, ptr: number, len: number): ElfBtfSections {
  if (!c.elfBtfInfo(ptr, len)) throw lastError(c);
  const raw = takeResult(c);
  const v = dv(raw);
  const w = (k: number) => v.getUint32(k * 4, true);
  const ref = (k: number): ElfSectionRef | undefined =>
    w(k) === 0xffffffff ? undefined : { index: w(k), offset: w(k + 1), size: w(k + 2) };
  const sub = (k: number): BtfExtSub => ({ off: w(k), len: w(k + 1), recordSize: w(k + 2) });
  const ext = ref(8);
  return {
    ...header(w(0), w(1), w(2), w(3)),
    btf: ref(5)!,
    btfExt: ext && { ...ext, hdrLen: w(23), funcInfo: sub(24), lineInfo: sub(27), coreRelo: sub(30) },
    btfBase: ref(11),
    btfIds: ref(14),
    symtab: ref(17),
    strtab: ref(20),
  };
}

/**
 * BTF from an ELF file, as libbpf's btf__parse_elf / btf__parse_split: .BTF,
 * split on the file's .BTF.base when it has one (the distilled base is kept
 * in source.distilledBase), else on opts.base. Errors carry file offsets.
 */
export function btfFromElf(bytes: Uint8Array, opts: ParseOptions): Btf {
  const secs = elfBtfSections(bytes);
  const slice = (r: ElfSectionRef) => bytes.subarray(r.offset, r.offset + r.size);
  const sections = [".BTF"];
  if (secs.btfExt) sections.push(".BTF.ext");
  if (secs.btfBase) sections.push(".BTF.base");
  if (secs.btfIds) sections.push(".BTF_ids");
  const source: SourceInfo = {
    layers: [],
    container: "elf",
    sections,
    elf: { class: secs.class, endian: secs.endian, type: secs.type, machine: secs.machine },
  };
  const level = opts.validate;
  if (secs.btfBase) {
    const distilled = Btf.parse(slice(secs.btfBase), { validate: level, file: opts.file, fileOffset: secs.btfBase.offset });
    let split: Btf;
    try {
      split = Btf.parse(slice(secs.btf), { base: distilled, validate: level, file: opts.file, fileOffset: secs.btf.offset });
    } catch (e) {
      distilled.free();
      throw e;
    }
    if (opts.base) {
      // As libbpf's btf__parse_split: a module with .BTF.base given a real base
      // is relocated onto it (btf__relocate), and the distilled base is dropped.
      try {
        const r = relocate(split, opts.base);
        source.relocated = true;
        return finish(r.btf, source, secs.class);
      } finally {
        split.free();
        distilled.free();
      }
    }
    source.distilledBase = distilled;
    return finish(split, source, secs.class);
  }
  const btf = Btf.parse(slice(secs.btf), { base: opts.base, validate: level, file: opts.file, fileOffset: secs.btf.offset });
  return finish(btf, source, secs.class);
}

/** As libbpf's btf_parse_elf: the pointer size comes from the ELF class. */
function finish(btf: Btf, source: SourceInfo, cls: 32 | 64): Btf {
  btf.source = source;
  guard((c) => {
    if (!c.elfSetBtfPointerSize(btf.handle, cls === 64 ? 8 : 4)) throw lastError(c);
  });
  return btf;
}

export interface ReplaceResult {
  bytes: Uint8Array;
  /** The input ended in a kernel module signature, which the output does not carry (it would no longer verify). */
  droppedSignature: boolean;
}

/**
 * A copy of the ELF file with named sections replaced, or added (as
 * SHT_PROGBITS, no flags, alignment 1, like pahole's .BTF.base) when absent.
 * Every other section keeps its index and its bytes; see the layout notes in
 * assembly/elf.ts. An appended module signature is dropped and reported.
 */
export function replaceElfSections(bytes: Uint8Array, sections: Record<string, Uint8Array>): ReplaceResult {
  const entries = Object.entries(sections);
  return withFile(bytes, (c, ptr, len) => {
    const owned: number[] = [];
    try {
      const spec = c.memAlloc(entries.length * 12);
      owned.push(spec);
      entries.forEach(([name, data], k) => {
        const np = copyInCString(name, c);
        owned.push(np);
        const dp = copyIn(data, c);
        owned.push(dp);
        const v = new DataView(c.memory.buffer); // memory may have grown
        v.setUint32(spec + k * 12, np, true);
        v.setUint32(spec + k * 12 + 4, dp, true);
        v.setUint32(spec + k * 12 + 8, data.length, true);
      });
      if (!c.elfReplaceSections(ptr, len, spec, entries.length)) throw lastError(c);
      return { bytes: takeResult(c), droppedSignature: !!c.elfDroppedSignature() };
    } finally {
      for (const p of owned) c.memFree(p);
    }
  });
}

export interface RemapResult {
  /** The file with .BTF_ids rewritten; every other byte is unchanged. */
  bytes: Uint8Array;
  /** How many ids were rewritten (ids of 0 are left alone and not counted). */
  remapped: number;
}

/**
 * Rewrite the type ids of .BTF_ids through `idMap` (indexed by old id; the
 * new id, 0 = unmapped), locating them as kbuild's resolve_btfids does, and
 * sort each id set again. A file without .BTF_ids comes back unchanged with
 * remapped 0. A non-zero id without a mapping throws BAD_TYPE_ID naming its
 * symbol. An appended signature stays in place but no longer verifies:
 * write the result with replaceElfSections, which drops it.
 */
export function remapBtfIds(bytes: Uint8Array, idMap: Uint32Array | ArrayLike<number>): RemapResult {
  return guard((c) => {
    const ptr = copyIn(bytes, c);
    const mapPtr = c.memAlloc(idMap.length * 4);
    try {
      const v = new DataView(c.memory.buffer);
      for (let i = 0; i < idMap.length; i++) v.setUint32(mapPtr + i * 4, idMap[i] >>> 0, true);
      const n = c.elfRemapBtfIds(ptr, bytes.length, mapPtr, idMap.length);
      if (n < 0) throw lastError(c);
      const out = new Uint8Array(bytes.length);
      out.set(new Uint8Array(c.memory.buffer, ptr, bytes.length));
      return { bytes: out, remapped: n };
    } finally {
      c.memFree(mapPtr);
      c.memFree(ptr);
    }
  });
}
