// File access for the CLI (Node's fs, which Deno provides too). Outputs are
// written atomically: to a temporary file in the same directory, then renamed,
// so a failed run never leaves a half-written file.

import { readFileSync, writeFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { BtfError } from "../errors.js";
import { Btf, ValidateLevel } from "../btf.js";
import { loadBtf } from "../load.js";

export function readInput(path: string): Uint8Array {
  try {
    const b = readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new BtfError("USAGE", `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: path });
  }
}

export function writeOutputAtomic(path: string, data: Uint8Array): void {
  writeOutputsAtomic([[path, data]]);
}

const tmpOf = (path: string) => join(dirname(path), `.${basename(path)}.btfkit-${process.pid}.tmp`);

/**
 * Several outputs of one run, all or none: every file is written to its
 * temporary first, and only when all are complete are they renamed into
 * place. A failure leaves no temporary file and no output of this run.
 */
export function writeOutputsAtomic(files: Array<[string, Uint8Array]>): void {
  const written: string[] = [];
  const fail = (path: string, e: unknown): never => {
    for (const t of written) { try { unlinkSync(t); } catch { /* already gone */ } }
    throw new BtfError("USAGE", `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: path });
  };
  for (const [path, data] of files) {
    const tmp = tmpOf(path);
    try {
      writeFileSync(tmp, data, { flag: "wx" });
      written.push(tmp);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT" && (e as NodeJS.ErrnoException).code !== "ENOTDIR") written.push(tmp);
      fail(path, e);
    }
  }
  for (let i = 0; i < files.length; i++) {
    try {
      renameSync(written[i], files[i][0]);
      written[i] = "";
    } catch (e) {
      fail(files[i][0], e);
    }
  }
}

/** Write to stdout without going through a JS string for large outputs. */
export function writeStdout(data: Uint8Array): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(1, data, off, Math.min(data.length - off, 1 << 20));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") continue;
      if ((e as NodeJS.ErrnoException).code === "EPIPE") return;
      throw e;
    }
  }
}

const stdoutText = new TextEncoder();
/** Print text on stdout (the verbs' one way to print a report). */
export function out(s: string): void { writeStdout(stdoutText.encode(s)); }

export function validateLevel(v: unknown): ValidateLevel {
  if (v === undefined) return "libbpf";
  if (v === "libbpf" || v === "kernel") return v;
  throw new BtfError("USAGE", `--validate takes libbpf or kernel, not ${String(v)}`);
}

/** Load FILE (any form) on an optional base file. */
export async function loadFile(path: string, opts: { base?: Btf; validate?: ValidateLevel } = {}): Promise<Btf> {
  return loadBtf(readInput(path), { base: opts.base, validate: opts.validate, file: path });
}

/**
 * FILE as the reading verbs (info, dump, convert, dedup) take it: on the
 * optional --base file, both checked at the --validate level.
 */
export async function loadFileOnBase(path: string, basePath: string | undefined, level: ValidateLevel): Promise<Btf> {
  const base = basePath ? await loadFile(basePath, { validate: level }) : undefined;
  return loadFile(path, { base, validate: level });
}

/** --endian and --header of the verbs that write raw BTF; unset fields keep the BTF's own form. */
export function writeOptions(opts: Record<string, unknown>): { endian?: "little" | "big"; header?: 24 | 32 } {
  const endian = opts.endian;
  if (endian !== undefined && endian !== "little" && endian !== "big") throw new BtfError("USAGE", "--endian takes little or big");
  const header = opts.header;
  if (header !== undefined && header !== "24" && header !== "32") throw new BtfError("USAGE", "--header takes 24 or 32");
  return { endian: endian as "little" | "big" | undefined, header: header ? (Number(header) as 24 | 32) : undefined };
}
