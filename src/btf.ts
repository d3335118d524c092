// The public Btf class: a handle on a BTF object living in the core, with
// light views of single types decoded on demand from the record in wasm
// memory. Nothing here walks the type table; bulk work is the core's.

import { wasm, guard, copyIn, copyInCString, takeResult, takeResultText, cstring, lastError, currentGeneration, CoreExports } from "./core.js";
import { BtfError } from "./errors.js";

import { KIND, KIND_NAMES, type KindName } from "./generated/kinds.js";

export { KIND, KIND_NAMES, type KindName };

export function kindNumber(kind: KindName | number): number {
  if (typeof kind === "number") return kind;
  const k = KIND_NAMES.indexOf(kind.toUpperCase() as KindName);
  if (k < 0) throw new BtfError("USAGE", `unknown kind ${kind}`);
  return k;
}

export type ValidateLevel = "libbpf" | "kernel";

/** Where a loaded BTF came from (set by loadBtf). */
export interface SourceInfo {
  /** Layers peeled off, outermost first: "gzip", "xz", "zstd", "lz4", "bzimage". */
  layers: string[];
  container: "raw" | "elf";
  /** ELF sections relevant to BTF that were found, e.g. [".BTF", ".BTF.ext", ".BTF.base"]. */
  sections?: string[];
  /** ELF class and data encoding when the container is ELF. */
  elf?: { class: 32 | 64; endian: "little" | "big"; type: number; machine: number };
  /** The module carried .BTF.base and was relocated onto the given base. */
  relocated?: boolean;
  /** The module carried .BTF.base and is parsed on that distilled base. */
  distilledBase?: Btf;
}

export interface ParseOptions {
  /** Base BTF: makes the input split BTF (module BTF on vmlinux). */
  base?: Btf;
  /** libbpf (default) checks what btf__new checks; kernel adds the kernel's load-time checks. */
  validate?: ValidateLevel;
  /** For error messages. */
  file?: string;
  /** Position of the blob in its container (added to error offsets). */
  fileOffset?: number;
}

export interface Member { name: string; type: number; bitOffset: number; bitfieldSize: number }
export interface EnumValue { name: string; value: bigint }
export interface Param { name: string; type: number }
export interface VarSecInfo { type: number; offset: number; size: number }

/** A light view of one type, decoded lazily from its record. */
export class TypeView {
  constructor(readonly btf: Btf, readonly id: number) {}

  private rec(): { c: CoreExports; p: number; dv: DataView } {
    const c = this.btf.core();
    const p = c.typeRec(this.btf.handle, this.id);
    if (p === 0 && this.id !== 0) throw new BtfError("BAD_TYPE_ID", `type id ${this.id} out of range`, { typeId: this.id });
    return { c, p, dv: new DataView(c.memory.buffer) };
  }
  get kind(): number { return this.btf.core().typeKind(this.btf.handle, this.id); }
  get kindName(): string { return KIND_NAMES[this.kind] ?? "UNKNOWN"; }
  get nameOff(): number { const { p, dv } = this.rec(); return p ? dv.getUint32(p, true) : 0; }
  get name(): string { return this.btf.str(this.nameOff); }
  get info(): number { const { p, dv } = this.rec(); return p ? dv.getUint32(p + 4, true) : 0; }
  get vlen(): number { return this.btf.core().typeVlen(this.btf.handle, this.id); }
  get kflag(): boolean { return !!this.btf.core().typeKflag(this.btf.handle, this.id); }
  /** The size|type word: a size for INT/STRUCT/UNION/ENUM/ENUM64/DATASEC/FLOAT, else a type id. */
  get sizeOrType(): number { const { p, dv } = this.rec(); return p ? dv.getUint32(p + 8, true) : 0; }
  get size(): number | undefined {
    const k = this.kind;
    return [1, 4, 5, 6, 15, 16, 19].includes(k) ? this.sizeOrType : undefined;
  }
  get type(): number | undefined {
    const k = this.kind;
    return [2, 8, 9, 10, 11, 12, 13, 14, 17, 18].includes(k) ? this.sizeOrType : undefined;
  }
  /** btf__resolve_size (pointer size 8 unless the BTF says otherwise). */
  get resolvedSize(): number { return this.btf.core().typeResolveSize(this.btf.handle, this.id, 0); }

  /** INT encoding fields. */
  get int(): { encoding: number; offset: number; bits: number } | undefined {
    if (this.kind !== KIND.INT) return undefined;
    const { p, dv } = this.rec();
    const w = dv.getUint32(p + 12, true);
    return { encoding: (w >>> 24) & 0xf, offset: (w >>> 16) & 0xff, bits: w & 0xff };
  }
  get array(): { type: number; indexType: number; nelems: number } | undefined {
    if (this.kind !== KIND.ARRAY) return undefined;
    const { p, dv } = this.rec();
    return { type: dv.getUint32(p + 12, true), indexType: dv.getUint32(p + 16, true), nelems: dv.getUint32(p + 20, true) };
  }
  get members(): Member[] {
    const k = this.kind;
    if (k !== KIND.STRUCT && k !== KIND.UNION) return [];
    const { p, dv } = this.rec();
    const n = this.vlen;
    const kf = this.kflag;
    const out: Member[] = [];
    for (let i = 0; i < n; i++) {
      const m = p + 12 + i * 12;
      const raw = dv.getUint32(m + 8, true);
      out.push({
        name: this.btf.str(dv.getUint32(m, true)),
        type: dv.getUint32(m + 4, true),
        bitOffset: kf ? raw & 0xffffff : raw,
        bitfieldSize: kf ? raw >>> 24 : 0,
      });
    }
    return out;
  }
  get values(): EnumValue[] {
    const k = this.kind;
    if (k !== KIND.ENUM && k !== KIND.ENUM64) return [];
    const { p, dv } = this.rec();
    const n = this.vlen;
    const signed = this.kflag;
    const out: EnumValue[] = [];
    for (let i = 0; i < n; i++) {
      if (k === KIND.ENUM) {
        const e = p + 12 + i * 8;
        out.push({ name: this.btf.str(dv.getUint32(e, true)), value: BigInt(signed ? dv.getInt32(e + 4, true) : dv.getUint32(e + 4, true)) });
      } else {
        const e = p + 12 + i * 12;
        const v = (BigInt(dv.getUint32(e + 8, true)) << 32n) | BigInt(dv.getUint32(e + 4, true));
        out.push({ name: this.btf.str(dv.getUint32(e, true)), value: signed ? BigInt.asIntN(64, v) : v });
      }
    }
    return out;
  }
  get params(): Param[] {
    if (this.kind !== KIND.FUNC_PROTO) return [];
    const { p, dv } = this.rec();
    const n = this.vlen;
    const out: Param[] = [];
    for (let i = 0; i < n; i++) {
      const a = p + 12 + i * 8;
      out.push({ name: this.btf.str(dv.getUint32(a, true)), type: dv.getUint32(a + 4, true) });
    }
    return out;
  }
  get linkage(): number | undefined {
    const k = this.kind;
    if (k === KIND.FUNC) return this.vlen;
    if (k === KIND.VAR) { const { p, dv } = this.rec(); return dv.getUint32(p + 12, true); }
    return undefined;
  }
  get componentIdx(): number | undefined {
    if (this.kind !== KIND.DECL_TAG) return undefined;
    const { p, dv } = this.rec();
    return dv.getInt32(p + 12, true);
  }
  get vars(): VarSecInfo[] {
    if (this.kind !== KIND.DATASEC) return [];
    const { p, dv } = this.rec();
    const n = this.vlen;
    const out: VarSecInfo[] = [];
    for (let i = 0; i < n; i++) {
      const v = p + 12 + i * 12;
      out.push({ type: dv.getUint32(v, true), offset: dv.getUint32(v + 4, true), size: dv.getUint32(v + 8, true) });
    }
    return out;
  }
  /** The bpftool raw text line(s) of this type. */
  raw(): string { return this.btf.dumpRawType(this.id); }
  toJSON(): Record<string, unknown> {
    return JSON.parse(this.btf.dumpJsonType(this.id));
  }
}

export interface HeaderInfo {
  hdrLen: number; typeLen: number; strLen: number; layoutLen: number; flags: number;
  endian: "little" | "big";
}

export interface WriteOptions {
  endian?: "little" | "big";
  /** 24 or 32; default: the input's header form (24 for BTF built by btfkit). */
  header?: 24 | 32;
}

const levelNumber = (v?: ValidateLevel) => (v === "kernel" ? 1 : 0);

export class Btf {
  /** The core handle; valid while the object is not freed. */
  readonly handle: number;
  readonly base?: Btf;
  readonly file?: string;
  /** Set by loadBtf. */
  source?: SourceInfo;
  private readonly gen: number;
  private freed = false;

  /** @internal Wrap a handle returned by the core. */
  constructor(handle: number, base?: Btf, file?: string) {
    this.handle = handle;
    this.base = base;
    this.file = file;
    this.gen = currentGeneration();
  }

  /** Parse raw BTF bytes (base or, with `base`, split). Synchronous; init() first. */
  static parse(bytes: Uint8Array, opts: ParseOptions = {}): Btf {
    return guard((c) => {
      const ptr = copyIn(bytes, c);
      const h = c.btfParse(ptr, bytes.length, 1, opts.base ? opts.base.handle : -1, levelNumber(opts.validate), opts.fileOffset ?? 0);
      if (h < 0) {
        const err = lastError(c, opts.file);
        c.memFree(ptr);
        throw err;
      }
      return new Btf(h, opts.base, opts.file);
    });
  }

  /** @internal */
  core(): CoreExports {
    if (this.freed) throw new BtfError("BAD_HANDLE", "this Btf was freed");
    if (this.gen !== currentGeneration()) throw new BtfError("BAD_HANDLE", "this Btf belonged to a core instance that was reset after an internal error");
    return wasm();
  }

  get typeCount(): number { return this.core().btfTypeCnt(this.handle); }
  /** First own id: 1 for base BTF, the base's type count for split BTF. */
  get startId(): number { return this.core().btfStartId(this.handle); }
  get startStrOff(): number { return this.core().btfStartStrOff(this.handle); }
  get isSplit(): boolean { return this.base !== undefined; }
  get header(): HeaderInfo {
    const c = this.core();
    const h = this.handle;
    return {
      hdrLen: c.btfHdrLen(h), typeLen: c.btfTypeLen(h), strLen: c.btfStrLen(h),
      layoutLen: c.btfLayoutLen(h), flags: c.btfFlags(h), endian: c.btfBigEndian(h) ? "big" : "little",
    };
  }
  get endian(): "little" | "big" { return this.core().btfBigEndian(this.handle) ? "big" : "little"; }
  /** Pointer size guessed from a `long` INT, as libbpf; undefined when unknown. */
  get pointerSize(): number | undefined { const p = this.core().btfPtrSize(this.handle); return p > 0 ? p : undefined; }

  /** Own types per kind name. */
  kindCounts(): Record<string, number> {
    return guard((c) => {
      if (!c.btfKindCounts(this.handle)) throw lastError(c, this.file);
      const raw = takeResult(c);
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const out: Record<string, number> = {};
      for (let k = 0; k < 32; k++) {
        const n = dv.getUint32(k * 4, true);
        if (n) out[KIND_NAMES[k] ?? `KIND_${k}`] = n;
      }
      return out;
    });
  }

  type(id: number): TypeView {
    if (!Number.isInteger(id) || id < 0 || id >= this.typeCount) throw new BtfError("BAD_TYPE_ID", `type id ${id} out of range (0..${this.typeCount - 1})`, { typeId: id });
    return new TypeView(this, id);
  }

  /** Own types in id order (base types too with { all: true }). */
  *types(opts: { all?: boolean } = {}): IterableIterator<TypeView> {
    const n = this.typeCount;
    for (let id = opts.all ? 1 : this.startId; id < n; id++) yield new TypeView(this, id);
  }

  /** The string at a name offset (through the base chain). */
  str(off: number): string {
    if (off === 0) return "";
    const c = this.core();
    const p = c.strAt(this.handle, off);
    return p ? cstring(p, c) : "";
  }

  /** Ids of types with this name (and kind, if given), base included, in id order. */
  find(name: string, kind?: KindName | number): number[] {
    return guard((c) => {
      const k = kind === undefined ? 0 : kindNumber(kind);
      const p = copyInCString(name, c);
      const out: number[] = [];
      try {
        let id = 0;
        while ((id = c.btfFindNext(this.handle, p, k, id)) !== 0) out.push(id);
      } finally {
        c.memFree(p);
      }
      return out;
    });
  }

  /** The raw blob of the own part (the split part only, for split BTF). */
  toBytes(opts: WriteOptions = {}): Uint8Array {
    return guard((c) => {
      if (!c.writeRawBytes(this.handle, opts.endian === "big" ? 1 : 0, opts.header ?? 0)) throw lastError(c, this.file);
      return takeResult(c);
    });
  }

  /** bpftool raw text (byte-identical to `bpftool btf dump file F format raw`). */
  dumpRaw(): string {
    return new TextDecoder().decode(this.dumpRawBytes());
  }
  /** The raw text as UTF-8 bytes (avoids a multi-MB JS string). */
  dumpRawBytes(): Uint8Array {
    return guard((c) => {
      if (!c.dumpRawText(this.handle, 0)) throw lastError(c, this.file);
      return takeResult(c);
    });
  }
  /** @internal */
  dumpRawType(id: number): string {
    return guard((c) => {
      if (!c.dumpRawText(this.handle, id)) throw lastError(c, this.file);
      return takeResultText(c);
    });
  }
  /** @internal JSON of one type (the documented shape of dump("json")). */
  dumpJsonType(id: number): string {
    return guard((c) => {
      if (!c.dumpJsonText(this.handle, id)) throw lastError(c, this.file);
      return takeResultText(c);
    });
  }
  /** JSON dump as UTF-8 bytes: {"types":[...]} (see README). */
  dumpJsonBytes(): Uint8Array {
    return guard((c) => {
      if (!c.dumpJsonText(this.handle, 0)) throw lastError(c, this.file);
      return takeResult(c);
    });
  }

  dump(format: "raw" | "json"): string {
    if (format === "raw") return this.dumpRaw();
    if (format === "json") return new TextDecoder().decode(this.dumpJsonBytes());
    throw new BtfError("USAGE", `unknown dump format ${format}`);
  }

  /** Run BPF_BTF_LOAD's checks (meta pass, resolve pass, type tags); throws a BtfError when the kernel would refuse. */
  validateKernel(): void {
    guard((c) => {
      if (!c.btfValidateKernel(this.handle)) throw lastError(c, this.file);
    });
  }

  /** Release the core object. Split objects keep their base alive in the core. */
  free(): void {
    if (this.freed) return;
    if (this.gen === currentGeneration()) wasm().btfFree(this.handle);
    this.freed = true;
  }
}
