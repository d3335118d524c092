#!/usr/bin/env bash
# Regenerates test/fixtures/zstd/: small .zst files made by the zstd CLI, so
# test/zstd.test.ts checks the core's decoder on a fresh clone without the
# CLI. The originals are derived from other fixtures (see ORIGINS below) or
# committed here (random.bin); MANIFEST.tsv lists each .zst, its original
# and the original's sha256 (computed by node). Needs zstd >= 1.5 and node.
set -euo pipefail
F=test/fixtures/zstd
mkdir -p "$F"; rm -f "$F"/*.zst "$F"/MANIFEST.tsv
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
# Originals. Keep in sync with originalBytes() in test/zstd.test.ts.
gunzip -c test/fixtures/k61-50/modules/bridge.btf.gz > "$T/bridge"           # a real module BTF blob
{ gunzip -c test/fixtures/k61-50/vmlinux.btf.gz || true; } | head -c 300000 > "$T/vmlinux300k"  # text-like, repetitive
head -c 100000 /dev/zero > "$T/zeros"
[ -f "$F/random.bin" ] || node -e '
  let s = 0x9e3779b9 >>> 0; const b = Buffer.alloc(65536);
  for (let i = 0; i < b.length; i++) { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; b[i] = s & 255; }
  require("fs").writeFileSync(process.argv[1], b);' "$F/random.bin"
cp "$F/random.bin" "$T/random"
: > "$T/empty"
Z="zstd -q -f"
m() { echo -e "$1\t$2" >> "$T/list"; }   # fixture name, original name
$Z -1 "$T/bridge" -o "$F/bridge-1.zst"; m bridge-1.zst bridge
$Z -19 "$T/bridge" -o "$F/bridge-19.zst"; m bridge-19.zst bridge
$Z --ultra -22 "$T/bridge" -o "$F/bridge-22.zst"; m bridge-22.zst bridge
$Z -3 --no-check "$T/bridge" -o "$F/bridge-nocheck.zst"; m bridge-nocheck.zst bridge
$Z -3 --no-content-size < "$T/bridge" > "$F/bridge-nosize.zst"; m bridge-nosize.zst bridge
$Z -19 --target-compressed-block-size=1024 "$T/bridge" -o "$F/bridge-smallblocks.zst"; m bridge-smallblocks.zst bridge
$Z -19 --zstd=wlog=10 "$T/bridge" -o "$F/bridge-wlog10.zst"; m bridge-wlog10.zst bridge
$Z --ultra -22 --long=27 "$T/vmlinux300k" -o "$F/vmlinux300k-22-long.zst"; m vmlinux300k-22-long.zst vmlinux300k
$Z -3 "$T/vmlinux300k" -o "$F/vmlinux300k-3.zst"; m vmlinux300k-3.zst vmlinux300k
$Z -19 "$T/zeros" -o "$F/zeros-19.zst"; m zeros-19.zst zeros
$Z -1 "$T/random" -o "$F/random-1.zst"; m random-1.zst random
$Z -3 "$T/empty" -o "$F/empty.zst"; m empty.zst empty
# Two frames and a skippable frame between them: bridge then random.
printf '\x50\x2a\x4d\x18\x05\x00\x00\x00hello' > "$T/skip"
cat "$F/bridge-1.zst" "$T/skip" "$F/random-1.zst" > "$F/multi.zst"; cat "$T/bridge" "$T/random" > "$T/multi"; m multi.zst multi
# A bomb: 16 MiB of zeros in a few hundred bytes, with no declared size.
head -c 16777216 /dev/zero | $Z -19 --no-content-size > "$F/bomb16m.zst"; head -c 16777216 /dev/zero > "$T/bomb16m"; m bomb16m.zst bomb16m
while IFS=$'\t' read -r z o; do
  printf '%s\t%s\t%s\n' "$z" "$o" "$(node -e 'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(process.argv[1])).digest("hex"))' "$T/$o")"
done < "$T/list" > "$F/MANIFEST.tsv"
ls -l "$F"
