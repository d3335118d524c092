// JSON dump: the shape of `bpftool -j btf dump ... format raw` ({"types":[...]}),
// one object per type with the same field names and values as the raw text.
// Documented in README.md ("JSON dump"); keep the two in step.

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

/** A JSON string from a C string, escaping quotes, backslashes and control bytes. */
function jsonCstr(sink: ByteSink, p: usize): void {
  sink.byte(0x22);
  while (true) {
    const c = <u32>load<u8>(p++);
    if (c == 0) break;
    if (c == 0x22 || c == 0x5c) { sink.byte(0x5c); sink.byte(c); }
    else if (c < 0x20) {
      sink.str("\\u00");
      sink.byte(48 + (c >> 4));
      const lo = c & 15;
      sink.byte(lo < 10 ? 48 + lo : 87 + lo);
    } else sink.byte(c);
  }
  sink.byte(0x22);
}

function nameField(btf: Btf, sink: ByteSink, key: string, off: u32): void {
  sink.str(key);
  if (off == 0) sink.str("\"(anon)\"");
  else if (!btf.strValid(off)) sink.str("\"(invalid)\"");
  else jsonCstr(sink, btf.str(off));
}

function u32Field(sink: ByteSink, key: string, v: u32): void { sink.str(key); sink.u32dec(v); }

function linkageStr(l: u32): string {
  return l == 0 ? "static" : l == 1 ? "global" : l == 2 ? "extern" : "(unknown)";
}

function intEncStr(e: u32): string {
  return e == 0 ? "(none)" : e == 1 ? "SIGNED" : e == 2 ? "CHAR" : e == 4 ? "BOOL" : "UNKN";
}

export function dumpJsonType(btf: Btf, sink: ByteSink, id: u32): void {
  const p = btf.rec(id);
  const owner = btf.owner(id);
  const kind = owner.recKind(p);
  const vlen = owner.recVlen(p);
  const kflag = infoKflag(load<u32>(p, T_INFO));
  const sz = load<u32>(p, T_SIZE);
  const q = p + COMMON_LEN;
  u32Field(sink, "{\"id\":", id);
  sink.str(",\"kind\":\""); sink.str(kindName(kind)); sink.byte(0x22);
  nameField(btf, sink, ",\"name\":", load<u32>(p, T_NAME));
  switch (kind) {
    case KIND_INT: {
      const w = load<u32>(q);
      u32Field(sink, ",\"size\":", sz);
      u32Field(sink, ",\"bits_offset\":", intOffset(w));
      u32Field(sink, ",\"nr_bits\":", intBits(w));
      sink.str(",\"encoding\":\""); sink.str(intEncStr(intEncoding(w))); sink.byte(0x22);
      break;
    }
    case KIND_PTR: case KIND_CONST: case KIND_VOLATILE: case KIND_RESTRICT:
    case KIND_TYPEDEF: case KIND_TYPE_TAG:
      u32Field(sink, ",\"type_id\":", sz);
      if (kind == KIND_TYPE_TAG && kflag) sink.str(",\"kind_flag\":1");
      break;
    case KIND_ARRAY:
      u32Field(sink, ",\"type_id\":", load<u32>(q));
      u32Field(sink, ",\"index_type_id\":", load<u32>(q, 4));
      u32Field(sink, ",\"nr_elems\":", load<u32>(q, 8));
      break;
    case KIND_STRUCT: case KIND_UNION: {
      u32Field(sink, ",\"size\":", sz);
      u32Field(sink, ",\"vlen\":", vlen);
      sink.str(",\"members\":[");
      for (let i: u32 = 0; i < vlen; i++) {
        const m = q + <usize>i * MEMBER_LEN;
        const raw = load<u32>(m, 8);
        if (i) sink.byte(0x2c);
        nameField(btf, sink, "{\"name\":", load<u32>(m));
        u32Field(sink, ",\"type_id\":", load<u32>(m, 4));
        u32Field(sink, ",\"bits_offset\":", memberBitOffset(raw, kflag));
        const bsz = memberBitfieldSize(raw, kflag);
        if (bsz != 0) u32Field(sink, ",\"bitfield_size\":", bsz);
        sink.byte(0x7d);
      }
      sink.byte(0x5d);
      break;
    }
    case KIND_ENUM: case KIND_ENUM64: {
      sink.str(kflag ? ",\"encoding\":\"SIGNED\"" : ",\"encoding\":\"UNSIGNED\"");
      u32Field(sink, ",\"size\":", sz);
      u32Field(sink, ",\"vlen\":", vlen);
      sink.str(",\"values\":[");
      for (let i: u32 = 0; i < vlen; i++) {
        if (i) sink.byte(0x2c);
        if (kind == KIND_ENUM) {
          const e = q + <usize>i * ENUM_LEN;
          nameField(btf, sink, "{\"name\":", load<u32>(e));
          sink.str(",\"val\":");
          if (kflag) sink.i32dec(load<i32>(e, 4)); else sink.u32dec(load<u32>(e, 4));
        } else {
          const e = q + <usize>i * ENUM64_LEN;
          const v = (<u64>load<u32>(e, 8) << 32) | <u64>load<u32>(e, 4);
          nameField(btf, sink, "{\"name\":", load<u32>(e));
          sink.str(",\"val\":");
          if (kflag) sink.i64dec(<i64>v); else sink.u64dec(v);
        }
        sink.byte(0x7d);
      }
      sink.byte(0x5d);
      break;
    }
    case KIND_FWD:
      sink.str(kflag ? ",\"fwd_kind\":\"union\"" : ",\"fwd_kind\":\"struct\"");
      break;
    case KIND_FUNC:
      u32Field(sink, ",\"type_id\":", sz);
      sink.str(",\"linkage\":\""); sink.str(linkageStr(vlen)); sink.byte(0x22);
      break;
    case KIND_FUNC_PROTO: {
      u32Field(sink, ",\"ret_type_id\":", sz);
      u32Field(sink, ",\"vlen\":", vlen);
      sink.str(",\"params\":[");
      for (let i: u32 = 0; i < vlen; i++) {
        const a = q + <usize>i * PARAM_LEN;
        if (i) sink.byte(0x2c);
        nameField(btf, sink, "{\"name\":", load<u32>(a));
        u32Field(sink, ",\"type_id\":", load<u32>(a, 4));
        sink.byte(0x7d);
      }
      sink.byte(0x5d);
      break;
    }
    case KIND_VAR:
      u32Field(sink, ",\"type_id\":", sz);
      sink.str(",\"linkage\":\""); sink.str(linkageStr(load<u32>(q))); sink.byte(0x22);
      break;
    case KIND_DATASEC: {
      u32Field(sink, ",\"size\":", sz);
      u32Field(sink, ",\"vlen\":", vlen);
      sink.str(",\"vars\":[");
      for (let i: u32 = 0; i < vlen; i++) {
        const v = q + <usize>i * VARSECINFO_LEN;
        if (i) sink.byte(0x2c);
        u32Field(sink, "{\"type_id\":", load<u32>(v));
        u32Field(sink, ",\"offset\":", load<u32>(v, 4));
        u32Field(sink, ",\"size\":", load<u32>(v, 8));
        sink.byte(0x7d);
      }
      sink.byte(0x5d);
      break;
    }
    case KIND_FLOAT:
      u32Field(sink, ",\"size\":", sz);
      break;
    case KIND_DECL_TAG:
      u32Field(sink, ",\"type_id\":", sz);
      sink.str(",\"component_idx\":"); sink.i32dec(load<i32>(q));
      if (kflag) sink.str(",\"kind_flag\":1");
      break;
  }
  sink.byte(0x7d);
}

/** {"types":[...]} over all own types, one per line for streaming readers. */
export function dumpJson(btf: Btf, sink: ByteSink): void {
  sink.str("{\"types\":[");
  const cnt = btf.typeCnt();
  for (let id = btf.startId; id < cnt; id++) {
    if (id != btf.startId) sink.byte(0x2c);
    sink.byte(0x0a);
    dumpJsonType(btf, sink, id);
  }
  sink.str("\n]}\n");
}
