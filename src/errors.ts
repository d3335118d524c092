// The only error type the public API throws. `code` is a stable string (the
// list lives in assembly/errors.ts and is generated into codes.ts), `offset`
// is a byte position in the input when known, `typeId` the type concerned.

import { ERROR_CODE_NAMES, type BtfErrorCode } from "./generated/codes.js";

export type { BtfErrorCode };

export class BtfError extends Error {
  readonly code: BtfErrorCode;
  readonly offset?: number;
  readonly typeId?: number;
  readonly file?: string;

  constructor(code: BtfErrorCode, message: string, opts: { offset?: number; typeId?: number; file?: string } = {}) {
    super(message);
    this.name = "BtfError";
    this.code = code;
    if (opts.offset !== undefined) this.offset = opts.offset;
    if (opts.typeId !== undefined) this.typeId = opts.typeId;
    if (opts.file !== undefined) this.file = opts.file;
  }

  static fromCore(code: number, message: string, offset?: number, typeId?: number, file?: string): BtfError {
    const name = ERROR_CODE_NAMES[code];
    // A code this build does not know is a core/host mismatch: a bug in btfkit.
    if (name === undefined) return new BtfError("INTERNAL", `core error code ${code}: ${message}`, { offset, typeId, file });
    return new BtfError(name, message, { offset, typeId, file });
  }

  /** Same error, attributed to a file (and shifted by a container offset). */
  withFile(file: string, addOffset = 0): BtfError {
    return new BtfError(this.code, this.message, {
      offset: this.offset !== undefined ? this.offset + addOffset : undefined,
      typeId: this.typeId,
      file,
    });
  }

  /** One line: "FILE: CODE at offset N (type [ID]): message". */
  describe(): string {
    let s = this.file ? `${this.file}: ` : "";
    s += this.code;
    if (this.offset !== undefined) s += ` at offset ${this.offset}`;
    if (this.typeId !== undefined) s += ` (type [${this.typeId}])`;
    return `${s}: ${this.message}`;
  }
}
