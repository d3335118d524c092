// Encoders for the containers loadBtf unwraps, written small and by hand so
// the fuzzer controls every field: zstd frames of raw and RLE blocks, xz
// streams of uncompressed LZMA2 chunks, LZ4 legacy frames (literal runs, and
// overlapping matches for bombs), x86 bzImage headers; gzip comes from
// node:zlib. Each takes a payload and returns the wrapped bytes.
import { gzipSync, crc32 } from "node:zlib";

const le32 = (v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

function concat(parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export const gzip = (payload) => new Uint8Array(gzipSync(payload, { level: 1 }));

/** A zstd frame of raw blocks; `fcs` (frame content size) may lie or be left out. */
export function zstdRaw(payload, fcs = payload.length) {
  const hdr = fcs === undefined ? [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50] : [0x28, 0xb5, 0x2f, 0xfd, 0xa0, ...le32(fcs)];
  const parts = [Uint8Array.from(hdr)];
  const B = 1 << 17;
  for (let o = 0; o < payload.length || o === 0; o += B) {
    const n = Math.min(B, payload.length - o);
    const last = o + B >= payload.length ? 1 : 0;
    const h = (n << 3) | last;
    parts.push(Uint8Array.from([h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff]), payload.subarray(o, o + n));
    if (payload.length === 0) break;
  }
  return concat(parts);
}

/** A zstd bomb: `blocks` RLE blocks of 128 KiB each (4 input bytes per 128 KiB), no content size. */
export function zstdRleBomb(blocks, withFcs = false) {
  const hdr = withFcs ? [0x28, 0xb5, 0x2f, 0xfd, 0xa0, ...le32(0x100)] : [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58];
  const out = new Uint8Array(hdr.length + blocks * 4);
  out.set(hdr);
  for (let i = 0; i < blocks; i++) {
    const h = ((1 << 17) << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0);
    out.set([h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff, 0], hdr.length + i * 4);
  }
  return out;
}

function varint(v) {
  const out = [];
  do { let b = v % 128; v = Math.floor(v / 128); if (v) b |= 0x80; out.push(b); } while (v);
  return out;
}
const crcBytes = (b) => le32(crc32(b));

/** An xz stream (CRC32 check) of one block of uncompressed LZMA2 chunks. */
export function xz(payload) {
  const streamFlags = Uint8Array.from([0x00, 0x01]);
  const header = concat([Uint8Array.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), streamFlags, Uint8Array.from(crcBytes(streamFlags))]);
  const bh = Uint8Array.from([0x02, 0x00, 0x21, 0x01, 0x00, 0, 0, 0]);
  const blockHeader = concat([bh, Uint8Array.from(crcBytes(bh))]);
  const chunks = [];
  const C = 1 << 16;
  for (let o = 0; o < payload.length; o += C) {
    const n = Math.min(C, payload.length - o);
    chunks.push(Uint8Array.from([o === 0 ? 0x01 : 0x02, ((n - 1) >>> 8) & 0xff, (n - 1) & 0xff]), payload.subarray(o, o + n));
  }
  chunks.push(Uint8Array.of(0x00));
  const data = concat(chunks);
  const pad = new Uint8Array((4 - (data.length % 4)) % 4);
  const check = Uint8Array.from(crcBytes(payload));
  const unpadded = blockHeader.length + data.length + check.length;
  const idx0 = Uint8Array.from([0x00, ...varint(1), ...varint(unpadded), ...varint(payload.length)]);
  const idx = concat([idx0, new Uint8Array((4 - (idx0.length % 4)) % 4)]);
  const index = concat([idx, Uint8Array.from(crcBytes(idx))]);
  const fb = Uint8Array.from([...le32(index.length / 4 - 1), 0x00, 0x01]);
  const footer = concat([Uint8Array.from(crcBytes(fb)), fb, Uint8Array.from([0x59, 0x5a])]);
  return concat([header, blockHeader, data, pad, check, index, footer]);
}

function lz4LitLen(n) {
  const out = [];
  if (n >= 15) { n -= 15; while (n >= 255) { out.push(255); n -= 255; } out.push(n); }
  return out;
}

/** An LZ4 legacy frame of literal-only blocks (the kernel's trailing size word optional). */
export function lz4Legacy(payload, trailer = false) {
  const parts = [Uint8Array.from([0x02, 0x21, 0x4c, 0x18])];
  const B = 1 << 20;
  for (let o = 0; o < payload.length; o += B) {
    const n = Math.min(B, payload.length - o);
    const blk = concat([Uint8Array.from([Math.min(n, 15) << 4, ...lz4LitLen(n)]), payload.subarray(o, o + n)]);
    parts.push(Uint8Array.from(le32(blk.length)), blk);
  }
  if (trailer) parts.push(Uint8Array.from(le32(payload.length)));
  return concat(parts);
}

/** An LZ4 bomb: one literal then a match of distance 1 repeated `len` bytes, per block. */
export function lz4Bomb(len, blocks = 1) {
  const ext = [];
  let n = len - 4 - 15;
  while (n >= 255) { ext.push(255); n -= 255; }
  ext.push(n);
  const blk = Uint8Array.from([0x1f, 0x00, 0x01, 0x00, ...ext, 0x00]);
  const parts = [Uint8Array.from([0x02, 0x21, 0x4c, 0x18])];
  for (let i = 0; i < blocks; i++) parts.push(Uint8Array.from(le32(blk.length)), blk);
  return concat(parts);
}

/** An x86 bzImage around a compressed payload (boot protocol 2.15, setup_sects 3). */
export function bzImage(payload, { version = 0x20f, setupSects = 3, offsetDelta = 0, lengthDelta = 0 } = {}) {
  const setup = new Uint8Array(((setupSects || 4) + 1) * 512); // 0 means 4 (boot protocol)
  setup[0x1f1] = setupSects;
  setup[0x1fe] = 0x55; setup[0x1ff] = 0xaa;
  setup.set([0x48, 0x64, 0x72, 0x53], 0x202);
  setup[0x206] = version & 0xff; setup[0x207] = version >>> 8;
  const isGzip = payload[0] === 0x1f && payload[1] === 0x8b;
  const body = isGzip ? payload : concat([payload, Uint8Array.from(le32(payload.length))]);
  const dv = new DataView(setup.buffer);
  dv.setUint32(0x248, offsetDelta >>> 0, true);
  dv.setUint32(0x24c, (body.length + lengthDelta) >>> 0, true);
  return concat([setup, body]);
}
