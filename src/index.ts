// btfkit's public API: `await init()` once, then synchronous calls.
export { init, coldStart } from "./core.js";
export type { InitOptions } from "./core.js";
export { BtfError } from "./errors.js";
export { Btf, TypeView, KIND_NAMES, kindNumber } from "./btf.js";
export type { ParseOptions, WriteOptions, HeaderInfo, Member, EnumValue, Param, VarSecInfo, ValidateLevel, KindName, SourceInfo } from "./btf.js";
export { loadBtf, loadBtfSync } from "./load.js";
export type { LoadOptions } from "./load.js";
export { sniff, unwrap, unwrapSync, DEFAULT_MAX_DECOMPRESSED } from "./input.js";
export type { InputKind, Unwrapped, UnwrapOptions } from "./input.js";
export { dumpC, dumpCBytes, type DumpCOptions } from "./dumpc.js";
