#!/usr/bin/env bash
# Regenerates test/fixtures/ from ../shared (corpus + golden). The fixtures are
# the small vendored subset that lets the tests run on a fresh clone, where
# ../shared is absent. Provenance: see ../shared/corpus/README.md and
# ../shared/golden/README.md; every file here is a byte copy (gzip -9n when
# the source was not already compressed).
set -euo pipefail
S=${SHARED:-../shared}; C=$S/corpus; G=$S/golden; F=test/fixtures
MODS="loop tcp_bbr cast_common veth bridge nf_conntrack zl10353"
find "$F" -mindepth 1 -maxdepth 1 ! -name wrapped ! -name zstd -exec rm -rf {} +; mkdir -p "$F"
for k in k61-50 k61-47; do
  mkdir -p "$F/$k/modules" "$F/golden/raw/$k" "$F/golden/distill/$k"
  cp "$C/$k/vmlinux.btf.gz" "$F/$k/"
  for m in $MODS; do
    gzip -9nc "$C/$k/modules/$m.btf" > "$F/$k/modules/$m.btf.gz"
    cp "$G/raw/$k/modules/$m.txt.gz" "$F/golden/raw/$k/"
    gzip -9nc "$G/distill/$k/$m.base.btf" > "$F/golden/distill/$k/$m.base.btf.gz"
    gzip -9nc "$G/distill/$k/$m.split.btf" > "$F/golden/distill/$k/$m.split.btf.gz"
  done
done
mkdir -p "$F/k61-50/ko"
for ko in tcp_bbr ebt_802_3; do gzip -9nc "$C/k61-50/ko/$ko.ko" > "$F/k61-50/ko/$ko.ko.gz"; done
for d in k61-50__to__k61-47 k61-47__to__k61-50 k61-50__to__k61-50; do
  mkdir -p "$F/golden/relocate/$d"
  src=${d%%__to__*}
  for m in $MODS; do
    for ext in btf map err; do
      [ -f "$G/relocate/$d/$m.$ext" ] && gzip -9nc "$G/relocate/$d/$m.$ext" > "$F/golden/relocate/$d/$m.$ext.gz"
    done
  done
done
mkdir -p "$F/golden/dedup/relocated-k61-50__to__k61-47" "$F/golden/c/k61-50/modules"
for m in $MODS; do
  [ -f "$G/dedup/relocated-k61-50__to__k61-47/$m.btf" ] && gzip -9nc "$G/dedup/relocated-k61-50__to__k61-47/$m.btf" > "$F/golden/dedup/relocated-k61-50__to__k61-47/$m.btf.gz"
done
cp "$G/c/k61-50/vmlinux.h.gz" "$F/golden/c/k61-50/"
cp "$G/c/k61-50/modules/loop.h.gz" "$F/golden/c/k61-50/modules/"
du -sh "$F"; find "$F" -type f | wc -l
# test/fixtures/wrapped/ (compressed forms of loop.btf and a synthetic bzImage) was made once
# with xz/zstd/lz4 -l and a short Python script; see test/input.test.ts for what each holds.
