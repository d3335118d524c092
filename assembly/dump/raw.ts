// bpftool's raw text format (`bpftool btf dump file F format raw`), byte for
// byte: one line per type, continuation lines prefixed by "\n\t". Followed
// from bpftool src/btf.c dump_btf_type().

import { Btf } from "../btf";
import { ByteSink } from "../sink";
import {
  COMMON_LEN, ENUM64_LEN, ENUM_LEN, KIND_ARRAY, KIND_CONST, KIND_DATASEC,
  KIND_DECL_TAG, KIND_ENUM, KIND_ENUM64, KIND_FLOAT, KIND_FUNC, KIND_FUNC_PROTO,
  KIND_FWD, KIND_INT, KIND_PTR, KIND_RESTRICT, KIND_STRUCT, KIND_TYPEDEF,
  KIND_TYPE_TAG, KIND_UNION, KIND_VAR, KIND_VOLATILE, MEMBER_LEN, PARAM_LEN,
  T_INFO, T_NAME, T_SIZE, VARSECINFO_LEN, infoKflag, intBits, intEncoding,
  intOffset, kindName, memberBitOffset, memberBitfieldSize,
} from "../format";

/** bpftool btf_str(): "(anon)" for 0, "(invalid)" when out of range. */
function putName(btf: Btf, sink: ByteSink, off: u32): void {
  sink.byte(0x27); // '
  if (off == 0) sink.str("(anon)");
  else if (!btf.strValid(off)) sink.str("(invalid)");
  else sink.cstr(btf.str(off));
  sink.byte(0x27);
}

function linkageStr(l: u32): string {
  switch (l) {
    case 0: return "static";
    case 1: return "global";
    case 2: return "extern";
    default: return "(unknown)";
  }
}

function intEncStr(e: u32): string {
  switch (e) {
    case 0: return "(none)";
    case 1: return "SIGNED";
    case 2: return "CHAR";
    case 4: return "BOOL";
    default: return "UNKN";
  }
}

/** Dump one type's line(s), with the trailing newline. */
export function dumpRawType(btf: Btf, sink: ByteSink, id: u32): void {
  const p = btf.rec(id);
  const owner = btf.owner(id);
  const kind = owner.recKind(p);
  const vlen = owner.recVlen(p);
  const kflag = infoKflag(load<u32>(p, T_INFO));
  const sz = load<u32>(p, T_SIZE);
  const q = p + COMMON_LEN;
  sink.byte(0x5b); // [
  sink.u32dec(id);
  sink.str("] ");
  sink.str(kindName(kind));
  sink.byte(0x20);
  putName(btf, sink, load<u32>(p, T_NAME));
  switch (kind) {
    case KIND_INT: {
      const w = load<u32>(q);
      sink.str(" size="); sink.u32dec(sz);
      sink.str(" bits_offset="); sink.u32dec(intOffset(w));
      sink.str(" nr_bits="); sink.u32dec(intBits(w));
      sink.str(" encoding="); sink.str(intEncStr(intEncoding(w)));
      break;
    }
    case KIND_PTR: case KIND_CONST: case KIND_VOLATILE: case KIND_RESTRICT:
    case KIND_TYPEDEF: case KIND_TYPE_TAG:
      sink.str(" type_id="); sink.u32dec(sz);
      break;
    case KIND_ARRAY:
      sink.str(" type_id="); sink.u32dec(load<u32>(q));
      sink.str(" index_type_id="); sink.u32dec(load<u32>(q, 4));
      sink.str(" nr_elems="); sink.u32dec(load<u32>(q, 8));
      break;
    case KIND_STRUCT: case KIND_UNION: {
      sink.str(" size="); sink.u32dec(sz);
      sink.str(" vlen="); sink.u32dec(vlen);
      for (let i: u32 = 0; i < vlen; i++) {
        const m = q + <usize>i * MEMBER_LEN;
        const raw = load<u32>(m, 8);
        sink.str("\n\t");
        putName(btf, sink, load<u32>(m));
        sink.str(" type_id="); sink.u32dec(load<u32>(m, 4));
        sink.str(" bits_offset="); sink.u32dec(memberBitOffset(raw, kflag));
        const bsz = memberBitfieldSize(raw, kflag);
        if (bsz != 0) { sink.str(" bitfield_size="); sink.u32dec(bsz); }
      }
      break;
    }
    case KIND_ENUM: {
      sink.str(kflag ? " encoding=SIGNED" : " encoding=UNSIGNED");
      sink.str(" size="); sink.u32dec(sz);
      sink.str(" vlen="); sink.u32dec(vlen);
      for (let i: u32 = 0; i < vlen; i++) {
        const e = q + <usize>i * ENUM_LEN;
        sink.str("\n\t");
        putName(btf, sink, load<u32>(e));
        sink.str(" val=");
        if (kflag) sink.i32dec(load<i32>(e, 4));
        else sink.u32dec(load<u32>(e, 4));
      }
      break;
    }
    case KIND_ENUM64: {
      sink.str(kflag ? " encoding=SIGNED" : " encoding=UNSIGNED");
      sink.str(" size="); sink.u32dec(sz);
      sink.str(" vlen="); sink.u32dec(vlen);
      for (let i: u32 = 0; i < vlen; i++) {
        const e = q + <usize>i * ENUM64_LEN;
        const v = (<u64>load<u32>(e, 8) << 32) | <u64>load<u32>(e, 4);
        sink.str("\n\t");
        putName(btf, sink, load<u32>(e));
        sink.str(" val=");
        if (kflag) { sink.i64dec(<i64>v); sink.str("LL"); }
        else { sink.u64dec(v); sink.str("ULL"); }
      }
      break;
    }
    case KIND_FWD:
      sink.str(kflag ? " fwd_kind=union" : " fwd_kind=struct");
      break;
    case KIND_FUNC:
      sink.str(" type_id="); sink.u32dec(sz);
      sink.str(" linkage="); sink.str(linkageStr(vlen));
      break;
    case KIND_FUNC_PROTO: {
      sink.str(" ret_type_id="); sink.u32dec(sz);
      sink.str(" vlen="); sink.u32dec(vlen);
      for (let i: u32 = 0; i < vlen; i++) {
        const a = q + <usize>i * PARAM_LEN;
        sink.str("\n\t");
        putName(btf, sink, load<u32>(a));
        sink.str(" type_id="); sink.u32dec(load<u32>(a, 4));
      }
      break;
    }
    case KIND_VAR:
      sink.str(" type_id="); sink.u32dec(sz);
      sink.str(", linkage="); sink.str(linkageStr(load<u32>(q)));
      break;
    case KIND_DATASEC: {
      sink.str(" size="); sink.u32dec(sz);
      sink.str(" vlen="); sink.u32dec(vlen);
      const cnt = btf.typeCnt();
      for (let i: u32 = 0; i < vlen; i++) {
        const v = q + <usize>i * VARSECINFO_LEN;
        const vt = load<u32>(v);
        sink.str("\n\ttype_id="); sink.u32dec(vt);
        sink.str(" offset="); sink.u32dec(load<u32>(v, 4));
        sink.str(" size="); sink.u32dec(load<u32>(v, 8));
        if (vt < cnt) {
          sink.str(" (");
          sink.str(kindName(btf.kind(vt)));
          sink.byte(0x20);
          putName(btf, sink, btf.nameOff(vt));
          sink.byte(0x29);
        }
      }
      break;
    }
    case KIND_FLOAT:
      sink.str(" size="); sink.u32dec(sz);
      break;
    case KIND_DECL_TAG:
      sink.str(" type_id="); sink.u32dec(sz);
      sink.str(" component_idx="); sink.i32dec(load<i32>(q));
      break;
  }
  sink.byte(0x0a);
}

/** All own types (ids from startId), as bpftool prints a file. */
export function dumpRaw(btf: Btf, sink: ByteSink): void {
  const cnt = btf.typeCnt();
  for (let id = btf.startId; id < cnt; id++) dumpRawType(btf, sink, id);
}
