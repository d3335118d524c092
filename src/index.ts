// btfkit's public API: `await init()` once, then synchronous calls.
export { init, coldStart, wasmMemoryBytes } from "./core.js";
export type { InitOptions } from "./core.js";
export { BtfError } from "./errors.js";
export { Btf, TypeView, KIND_NAMES, kindNumber } from "./btf.js";
export type { ParseOptions, WriteOptions, HeaderInfo, Member, EnumValue, Param, VarSecInfo, ValidateLevel, KindName, SourceInfo } from "./btf.js";
export { loadBtf, loadBtfSync } from "./load.js";
export type { LoadOptions } from "./load.js";
export { sniff, unwrap, unwrapSync, DEFAULT_MAX_DECOMPRESSED } from "./input.js";
export type { InputKind, Unwrapped, UnwrapOptions } from "./input.js";
export { BtfBuilder, INT_SIGNED, INT_CHAR, INT_BOOL } from "./builder.js";
export type { Linkage } from "./builder.js";
export { layoutDiff, embeddedBaseTypes } from "./layout.js";
export type { LayoutDifference } from "./layout.js";
export * from "./elf.js";
export { distill, relocate, relocationProblems, relocationMapText, describeProblem, RelocationError, type RelocationProblem, type RelocationReason, type RelocateOptions } from "./transform.js";
export { Checker, kernelLoadCheck } from "./check.js";
export type { CheckReport, CheckResult, CheckProblem, PlainVerdict, Disagreement, KernelInput, ModuleInput, CheckOptions, Severity } from "./check.js";
export { dedup, concatBtf, type ConcatOptions } from "./dedup.js";
