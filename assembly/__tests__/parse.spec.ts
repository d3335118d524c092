// parse.ts reads name and type-id fields through a per-kind table derived
// from fields.ts. These tests hold the two together: for every kind, a bad
// value in each field the visitor names must be reported at exactly that
// field, and a record without bad fields must parse.
import { parseBtf, LEVEL_LIBBPF } from "../parse";
import { Err, lastErrorCode, lastErrorOffset, lastErrorTypeId, clearError } from "../errors";
import { strFieldAddr, strFieldCount, typeIdFieldAddr, typeIdFieldCount } from "../fields";
import { KIND_FWD, KIND_FUNC, KIND_MAX, makeInfo, trailingLen } from "../format";

const HDR: u32 = 24;
const STRS: u32 = 3; // "\0a\0"

/** A blob of one type record of `kind` with `vlen`, all fields 0; returns its address. */
function blob(kind: u32, vlen: u32): usize {
  const recLen = 12 + <u32>trailingLen(kind, vlen);
  const size = HDR + recLen + STRS;
  const mem = heap.alloc(size);
  memory.fill(mem, 0, size);
  store<u16>(mem, 0xeb9f);
  store<u8>(mem + 2, 1);
  store<u32>(mem + 4, HDR);
  store<u32>(mem + 12, recLen);
  store<u32>(mem + 16, recLen);
  store<u32>(mem + 20, STRS);
  store<u32>(mem + HDR + 4, makeInfo(kind, vlen, false));
  store<u8>(mem + HDR + recLen + 1, 0x61);
  return mem;
}

function sizeOf(kind: u32, vlen: u32): u32 { return HDR + 12 + <u32>trailingLen(kind, vlen) + STRS; }

/** Parse; on failure return the error code, else 0 (and free the object). */
function tryParse(mem: usize, size: u32): i32 {
  clearError();
  const b = parseBtf(mem, size, 0, null, LEVEL_LIBBPF, 0);
  if (b === null) return lastErrorCode();
  b.release();
  return 0;
}

describe("the walk's field table", () => {
  it("reports a bad name in every string field the visitor names, at that field", () => {
    for (let k: u32 = 1; k <= KIND_MAX; k++) {
      const vlen: u32 = 2;
      const n = strFieldCount(k, vlen);
      for (let i: u32 = 0; i < n; i++) {
        const mem = blob(k, vlen);
        const rec = mem + HDR;
        const a = strFieldAddr(rec, k, i);
        store<u32>(a, 1000);
        expect(tryParse(mem, sizeOf(k, vlen))).toBe(Err.BAD_STR_OFFSET, "kind " + k.toString() + " field " + i.toString());
        expect(lastErrorOffset()).toBe(<i64>(a - mem));
        expect(lastErrorTypeId()).toBe(1);
        heap.free(mem);
      }
    }
  });

  it("reports a bad reference in every type-id field the visitor names, at that field", () => {
    for (let k: u32 = 1; k <= KIND_MAX; k++) {
      if (k == KIND_FWD) continue; // its slot is not a reference
      const vlen: u32 = 2;
      const n = typeIdFieldCount(k, vlen);
      for (let i: u32 = 0; i < n; i++) {
        const mem = blob(k, vlen);
        const a = typeIdFieldAddr(mem + HDR, k, i);
        store<u32>(a, 1000);
        expect(tryParse(mem, sizeOf(k, vlen))).toBe(Err.BAD_TYPE_ID, "kind " + k.toString() + " field " + i.toString());
        expect(lastErrorOffset()).toBe(<i64>(a - mem));
        heap.free(mem);
      }
    }
  });

  it("accepts every kind with all fields 0 (a FUNC still needs a FUNC_PROTO)", () => {
    for (let k: u32 = 1; k <= KIND_MAX; k++) {
      for (let vlen: u32 = 0; vlen < 4; vlen++) {
        const mem = blob(k, vlen);
        expect(tryParse(mem, sizeOf(k, vlen))).toBe(k == KIND_FUNC ? Err.BAD_FUNC : Err.OK, "kind " + k.toString());
        heap.free(mem);
      }
    }
  });
});

describe("parse", () => {
  it("trims the index to the type count", () => {
    const mem = blob(2, 0); // PTR -> void
    const b = parseBtf(mem, sizeOf(2, 0), 0, null, LEVEL_LIBBPF, 0);
    expect(b).not.toBeNull();
    expect(b!.count).toBe(1);
    expect(b!.typeCnt()).toBe(2);
    b!.release();
    heap.free(mem);
  });
  it("finds a pointer that points at itself", () => {
    const mem = blob(2, 0);
    store<u32>(mem + HDR + 8, 1);
    expect(tryParse(mem, sizeOf(2, 0))).toBe(Err.LOOP);
    heap.free(mem);
  });
});
