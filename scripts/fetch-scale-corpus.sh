#!/bin/sh
# The at-scale check corpus: every module of Debian's 6.1.0-50-amd64 package
# (4,022 uncompressed .ko) and the vmlinux BTF of 5 kernels, for
# `npm run bench -- check-scale` (20,110 module x kernel pairs).
#
#   scripts/fetch-scale-corpus.sh            # into $BTFKIT_SCALE_DIR or ~/.cache/btfkit/scale
#
# Produces DIR/modules/*.ko and DIR/kernels/<id>.btf (raw vmlinux BTF, as
# /sys/kernel/btf/vmlinux). Idempotent: packages already downloaded or
# extracted are reused. Needs apt-get (Debian bookworm sources: the packages
# below are in bookworm main, 6.1.0-53 in bookworm-security; a pinned version
# the archive has since dropped must be replaced), dpkg-deb and node
# (after npm run build). The extracted k61-50, k61-47 and k61-50-cloud BTF are byte for
# byte the developer corpus's vmlinux.btf.gz (checked with cmp).
set -eu

DIR=${BTFKIT_SCALE_DIR:-${HOME}/.cache/btfkit/scale}

# id  package=version  kernel release. The first one also gives the modules.
# k61-50, k61-47 and k61-50-cloud are the developer corpus's kernels; the
# PREEMPT_RT build of the same release and the next ABI (6.1.0-53) add a
# kernel with a different config and one with later fixes.
KERNELS="
k61-50 linux-image-6.1.0-50-amd64-unsigned=6.1.176-1 6.1.0-50-amd64
k61-47 linux-image-6.1.0-47-amd64-unsigned=6.1.170-3 6.1.0-47-amd64
k61-50-cloud linux-image-6.1.0-50-cloud-amd64-unsigned=6.1.176-1 6.1.0-50-cloud-amd64
k61-50-rt linux-image-6.1.0-50-rt-amd64-unsigned=6.1.176-1 6.1.0-50-rt-amd64
k61-53 linux-image-6.1.0-53-amd64-unsigned=6.1.187-1 6.1.0-53-amd64
"

# The raw .BTF section of a bzImage's vmlinux, by btfkit itself (`convert`
# peels the bzImage and its xz+BCJ / lz4 / zstd / gzip payload in the core).
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$ROOT/dist/cli.js" ] || { echo "fetch-scale-corpus: run npm run build first" >&2; exit 2; }
vmlinux_btf() {
  node "$ROOT/dist/cli.js" convert "$1" -o "$2"
}

mkdir -p "$DIR/debs" "$DIR/x" "$DIR/kernels" "$DIR/modules"

echo "$KERNELS" | while read -r id pkg release; do
  [ -n "$id" ] || continue
  if [ ! -s "$DIR/kernels/$id.btf" ]; then
    name=${pkg%%=*}
    deb=$(ls "$DIR/debs/${name}_"*.deb 2>/dev/null | head -n 1 || true)
    if [ -z "$deb" ]; then
      (cd "$DIR/debs" && apt-get download "$pkg")
      deb=$(ls "$DIR/debs/${name}_"*.deb | head -n 1)
    fi
    if [ ! -d "$DIR/x/$id/boot" ]; then
      rm -rf "$DIR/x/$id.tmp"
      dpkg-deb -x "$deb" "$DIR/x/$id.tmp"
      mv "$DIR/x/$id.tmp" "$DIR/x/$id"
    fi
    vmlinux_btf "$DIR/x/$id/boot/vmlinuz-$release" "$DIR/kernels/$id.btf.tmp"
    mv "$DIR/kernels/$id.btf.tmp" "$DIR/kernels/$id.btf"
    echo "fetch-scale-corpus: $DIR/kernels/$id.btf"
  fi
  # Only the first kernel's modules are checked; other trees are not kept.
  if [ "$id" = k61-50 ]; then
    if [ ! -f "$DIR/modules/.complete" ]; then
      # Hard links when possible (same file system), else copies; module
      # file names are unique in the package.
      find "$DIR/x/$id/lib/modules/$release" -name '*.ko' -exec ln -f {} "$DIR/modules/" \; 2>/dev/null \
        || find "$DIR/x/$id/lib/modules/$release" -name '*.ko' -exec cp -f {} "$DIR/modules/" \;
      touch "$DIR/modules/.complete"
    fi
  else
    rm -rf "$DIR/x/$id"
  fi
done

echo "fetch-scale-corpus: $(ls "$DIR/modules" | grep -c '\.ko$') modules, $(ls "$DIR/kernels" | grep -c '\.btf$') kernels in $DIR"
