// What parse.ts's single walk over the type section learnt, for
// validate.ts's libbpf-level checks after it (validateLibbpfAfterWalk). A
// file of its own so that parse and validate both import it and neither
// imports the other for it.

import { U32Vec } from "./vec";

export class WalkSummary {
  maxStrOff: u32 = 0;
  maxRefId: u32 = 0;
  /**
   * The summary cannot settle it: a FUNC whose target is not a FUNC_PROTO or
   * not indexed yet, or a kind visited field by field. The full pass decides.
   */
  needFullPass: bool = false;
  /** Own ids of chain-kind types referencing an id >= their own. */
  fwd: U32Vec = new U32Vec(16);

  /** Own ids of FUNCs whose target comes after them: checked once the walk has indexed it. */
  laterFuncs: U32Vec = new U32Vec(16);

  @inline pushFwd(id: u32): void { this.fwd.push(id); }
  get fwdChains(): usize { return this.fwd.ptr; }
  get fwdCount(): u32 { return this.fwd.len; }

  dispose(): void {
    this.fwd.free();
    this.laterFuncs.free();
  }
}
