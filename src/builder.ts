// Building BTF from scratch, one call per kind as libbpf's btf__add_*.
// Strings are deduplicated (and, for split BTF, looked up in the base first,
// as btf__add_str). The core holds the growing blob; finish() parses it.

import { Btf, KIND as K } from "./btf.js";
import { BtfError } from "./errors.js";
import { guard, wasm, copyInCString, lastError, CoreExports } from "./core.js";


export const INT_SIGNED = 1;
export const INT_CHAR = 2;
export const INT_BOOL = 4;

export type Linkage = "static" | "global" | "extern";
const linkageNum = (l: Linkage | number) => (typeof l === "number" ? l : l === "static" ? 0 : l === "global" ? 1 : 2);

export class BtfBuilder {
  private handle: number;
  private base?: Btf;
  /** Kind of the last type added, for member/value/param appends. */
  private lastKind = 0;
  private done = false;

  /** A new base BTF, or split BTF on `base`. */
  constructor(base?: Btf) {
    this.base = base;
    this.handle = guard((c) => {
      const h = c.builderNew(base ? base.handle : -1);
      if (h < 0) throw lastError(c);
      return h;
    });
  }

  private c(): CoreExports {
    if (this.done) throw new BtfError("USAGE", "builder already finished");
    return this.base ? this.base.core() : wasm();
  }

  /** Add a string; returns its offset ("" is 0). */
  addStr(s: string): number {
    if (s === "") return 0;
    const c = this.c();
    const p = copyInCString(s, c);
    try {
      const r = Number(c.builderAddStr(this.handle, p));
      if (r < 0) throw lastError(c);
      return r;
    } finally {
      c.memFree(p);
    }
  }

  private add(kind: number, name: string, sizeOrType: number, kflag = false, vlen = 0, a = 0, b = 0, cc = 0): number {
    const nameOff = this.addStr(name);
    const c = this.c();
    const id = Number(c.builderAddType(this.handle, kind, nameOff, sizeOrType >>> 0, kflag ? 1 : 0, vlen, a >>> 0, b >>> 0, cc >>> 0));
    if (id < 0) throw lastError(c);
    this.lastKind = kind;
    return id;
  }

  private elem(kinds: number[], what: string, w0: number, w1: number, w2 = 0): void {
    if (!kinds.includes(this.lastKind)) throw new BtfError("USAGE", `${what} must follow a type that takes it`);
    const c = this.c();
    if (!c.builderAddElem(this.handle, w0 >>> 0, w1 >>> 0, w2 >>> 0)) throw lastError(c);
  }

  addInt(name: string, size: number, encoding = 0, bits = size * 8, offset = 0): number {
    return this.add(K.INT, name, size, false, 0, ((encoding & 0xf) << 24) | ((offset & 0xff) << 16) | (bits & 0xff));
  }
  addFloat(name: string, size: number): number { return this.add(K.FLOAT, name, size); }
  addPtr(type: number): number { return this.add(K.PTR, "", type); }
  addConst(type: number): number { return this.add(K.CONST, "", type); }
  addVolatile(type: number): number { return this.add(K.VOLATILE, "", type); }
  addRestrict(type: number): number { return this.add(K.RESTRICT, "", type); }
  addTypedef(name: string, type: number): number { return this.add(K.TYPEDEF, name, type); }
  /** kflag set: `__attribute__((NAME))` rather than btf_type_tag("NAME"). */
  addTypeTag(value: string, type: number, attribute = false): number { return this.add(K.TYPE_TAG, value, type, attribute); }
  addFwd(name: string, kind: "struct" | "union"): number { return this.add(K.FWD, name, 0, kind === "union"); }
  addArray(elemType: number, indexType: number, nelems: number): number { return this.add(K.ARRAY, "", 0, false, 0, elemType, indexType, nelems); }
  addStruct(name: string, size: number): number { return this.add(K.STRUCT, name, size); }
  addUnion(name: string, size: number): number { return this.add(K.UNION, name, size); }
  /** As btf__add_field: offsets in bits; a bitfield (or unaligned member) sets the parent's kind_flag. */
  addMember(name: string, type: number, bitOffset: number, bitfieldSize = 0): void {
    const isBitfield = bitfieldSize > 0 || bitOffset % 8 !== 0;
    if (isBitfield && (bitfieldSize === 0 || bitfieldSize > 255 || bitOffset > 0xffffff))
      throw new BtfError("USAGE", `invalid bitfield member ${name}: size ${bitfieldSize} at bit ${bitOffset}`);
    const nameOff = this.addStr(name);
    this.elem([K.STRUCT, K.UNION], "addMember", nameOff, type, (bitOffset | (bitfieldSize << 24)) >>> 0);
    if (isBitfield) this.c().builderSetKflag(this.handle, 1);
  }
  addEnum(name: string, size = 4): number { return this.add(K.ENUM, name, size); }
  /** As btf__add_enum_value: a negative value marks the enum signed. */
  addEnumValue(name: string, value: number): void {
    const nameOff = this.addStr(name);
    this.elem([K.ENUM], "addEnumValue", nameOff, value | 0);
    if (value < 0) this.c().builderSetKflag(this.handle, 1);
  }
  addEnum64(name: string, size = 8, signed = false): number { return this.add(K.ENUM64, name, size, signed); }
  addEnum64Value(name: string, value: bigint): void {
    const nameOff = this.addStr(name);
    const v = BigInt.asUintN(64, value);
    this.elem([K.ENUM64], "addEnum64Value", nameOff, Number(v & 0xffffffffn), Number(v >> 32n));
  }
  addFuncProto(returnType: number): number { return this.add(K.FUNC_PROTO, "", returnType); }
  addParam(name: string, type: number): void {
    const nameOff = this.addStr(name);
    this.elem([K.FUNC_PROTO], "addParam", nameOff, type);
  }
  addFunc(name: string, proto: number, linkage: Linkage | number = "static"): number {
    return this.add(K.FUNC, name, proto, false, linkageNum(linkage));
  }
  addVar(name: string, type: number, linkage: Linkage | number = "static"): number {
    return this.add(K.VAR, name, type, false, 0, linkageNum(linkage));
  }
  addDatasec(name: string, size: number): number { return this.add(K.DATASEC, name, size); }
  addVarSecInfo(type: number, offset: number, size: number): void {
    this.elem([K.DATASEC], "addVarSecInfo", type, offset, size);
  }
  /** componentIdx -1 tags the whole type; kflag: an arbitrary attribute. */
  addDeclTag(value: string, type: number, componentIdx = -1, attribute = false): number {
    return this.add(K.DECL_TAG, value, type, attribute, 0, componentIdx);
  }

  /** Next id to be assigned. */
  get typeCount(): number { return this.c().builderTypeCnt(this.handle); }

  /** Parse what was built into a Btf (24-byte header); the builder is spent. */
  finish(): Btf {
    const c = this.c();
    const h = c.builderFinish(this.handle);
    this.done = true;
    if (h < 0) throw lastError(c);
    return new Btf(h, this.base);
  }

  /** Drop the builder without finishing. */
  free(): void {
    if (this.done) return;
    this.c().builderFree(this.handle);
    this.done = true;
  }
}
