// ELF containers of BTF. Placeholder until the core's ELF reader lands.
import { Btf, ParseOptions } from "./btf.js";
import { BtfError } from "./errors.js";

export function btfFromElf(_bytes: Uint8Array, _opts: ParseOptions): Btf {
  throw new BtfError("UNSUPPORTED", "ELF input is not supported yet");
}
