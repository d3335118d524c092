// The .BTF_ids remap: kbuild's resolve_btfids patches BTF type ids into the
// .BTF_ids section of vmlinux and modules; when the module's BTF is
// renumbered (dedup, relocate) those ids must follow. Ids go through an
// IdMap (idmap.ts), entry 0 meaning "no mapping".

import { Err, fail } from "./errors";
import { Elf, SHT_STRTAB, SHT_SYMTAB, SHT_SYMTAB_SHNDX, SHN_LORESERVE, SHN_XINDEX, SYM32, SYM64, badElf } from "./elf";
import { Writer } from "./elf_rewrite";
import { IdMap } from "./idmap";


const KIND_ID: u32 = 1;
const KIND_SET: u32 = 2;
const KIND_SET8: u32 = 3;

/**
 * Rewrite the type ids in .BTF_ids through `map` (old id -> new id, 0 =
 * unmapped), in place in [e.mem, e.mem+e.size). Returns how many ids
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
export function remapBtfIds(e: Elf, map: IdMap): i64 {
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

  const ctx = new RemapCtx(e, idsOff, idsSize, map);
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
  constructor(public e: Elf, public idsOff: u32, public idsSize: u32, public map: IdMap) {
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
    const nv = this.map.get(v);
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
