#!/usr/bin/env bash
# Regenerates test/fixtures/xz/: small .xz files made by the xz CLI, so
# test/xz.test.ts checks the core's decoder on a fresh clone without the
# CLI. The originals are derived from other fixtures (see below; random.bin
# is the zstd fixtures' committed one), except node256k: the first 256 KiB of
# the `node` binary at generation time, real x86 code for the BCJ filter,
# of which only the .xz files and the sha256 are committed. MANIFEST.tsv
# lists each .xz, its original and the original's sha256 (computed by node).
# Needs xz >= 5.2 and node (on x86-64, for real x86 code).
set -euo pipefail
F=test/fixtures/xz
mkdir -p "$F"; rm -f "$F"/*.xz "$F"/MANIFEST.tsv
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
# Originals. Keep in sync with originalBytes() in test/xz.test.ts.
gunzip -c test/fixtures/k61-50/modules/bridge.btf.gz > "$T/bridge"           # a real module BTF blob
{ gunzip -c test/fixtures/k61-50/vmlinux.btf.gz || true; } | head -c 300000 > "$T/vmlinux300k"  # text-like, repetitive
head -c 100000 /dev/zero > "$T/zeros"
cp test/fixtures/zstd/random.bin "$T/random"                                  # incompressible
: > "$T/empty"
head -c 262144 "$(command -v node)" > "$T/node256k"
X="xz -q -c -T1"
m() { echo -e "$1\t$2" >> "$T/list"; }   # fixture name, original name
$X -0 "$T/bridge" > "$F/bridge-0.xz"; m bridge-0.xz bridge
$X -6 "$T/bridge" > "$F/bridge-6.xz"; m bridge-6.xz bridge
$X -9e "$T/bridge" > "$F/bridge-9e.xz"; m bridge-9e.xz bridge
$X --check=none "$T/bridge" > "$F/bridge-none.xz"; m bridge-none.xz bridge
$X --check=crc32 "$T/bridge" > "$F/bridge-crc32.xz"; m bridge-crc32.xz bridge
$X --check=sha256 "$T/bridge" > "$F/bridge-sha256.xz"; m bridge-sha256.xz bridge
$X --lzma2=preset=6,lc=0,lp=4,pb=0 "$T/bridge" > "$F/bridge-lc0lp4.xz"; m bridge-lc0lp4.xz bridge
$X --lzma2=preset=6,lc=4,pb=4,dict=4KiB "$T/bridge" > "$F/bridge-lc4pb4-dict4k.xz"; m bridge-lc4pb4-dict4k.xz bridge
$X -6 --block-size=40000 "$T/vmlinux300k" > "$F/vmlinux300k-blocks.xz"; m vmlinux300k-blocks.xz vmlinux300k
xz -q -c -T2 -3 --block-size=100000 "$T/vmlinux300k" > "$F/vmlinux300k-T2.xz"; m vmlinux300k-T2.xz vmlinux300k
$X -9 "$T/zeros" > "$F/zeros-9.xz"; m zeros-9.xz zeros
$X -6 "$T/random" > "$F/random-6.xz"; m random-6.xz random
$X -6 "$T/empty" > "$F/empty.xz"; m empty.xz empty
# Kernel-style BCJ: x86 filter before LZMA2, CRC32 check; and with a start offset.
$X --check=crc32 --x86 --lzma2=preset=6,dict=1MiB "$T/node256k" > "$F/node256k-x86.xz"; m node256k-x86.xz node256k
$X --check=crc64 --x86=start=4096 --lzma2=preset=1 "$T/node256k" > "$F/node256k-x86start.xz"; m node256k-x86start.xz node256k
# Concatenated streams with stream padding between and after them.
{ cat "$F/bridge-0.xz"; head -c 8 /dev/zero; cat "$F/random-6.xz"; head -c 4 /dev/zero; } > "$F/multi.xz"
cat "$T/bridge" "$T/random" > "$T/multi"; m multi.xz multi
# A bomb: 16 MiB of zeros in ~2.5 KB, no size in its block header.
head -c 16777216 /dev/zero | $X -9 > "$F/bomb16m.xz"; head -c 16777216 /dev/zero > "$T/bomb16m"; m bomb16m.xz bomb16m
while IFS=$'\t' read -r z o; do
  printf '%s\t%s\t%s\n' "$z" "$o" "$(node -e 'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(process.argv[1])).digest("hex"))' "$T/$o")"
done < "$T/list" > "$F/MANIFEST.tsv"
ls -l "$F"
