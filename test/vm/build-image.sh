#!/usr/bin/env bash
# Builds what the cgroup v2 test guest boots, into a cache directory keyed by the kernel version:
# the kernel uncompressed (QEMU starts its ELF at the PVH entry, which skips the firmware and
# about 20 s of xz under TCG) and an initramfs of busybox-static, the modules needed to reach the
# host over virtio-9p and to run overlayfs, and init.sh as /init.
#
# build-image.sh [CACHE_DIR]    prints the directory it built (or found up to date)
# The build is skipped when CACHE_DIR/<kernel>/stamp matches this script and init.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kver=${GANTRY_V2VM_KERNEL:-$(find /boot -maxdepth 1 -name 'vmlinuz-*-amd64' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -1)}
[ -n "$kver" ] || { echo "v2vm: no /boot/vmlinuz-*-amd64 (apt-get install linux-image-amd64)" >&2; exit 1; }
cache=${1:-${GANTRY_V2VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gantry-v2vm}}/$kver
stamp=$(cat "$0" "$here/init.sh" /bin/busybox | sha256sum | cut -c1-16)
if [ -s "$cache/vmlinux" ] && [ -s "$cache/initramfs.cpio" ] && [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$cache"
  exit 0
fi
for tool in cpio modprobe xz busybox; do
  command -v "$tool" >/dev/null || { echo "v2vm: $tool is missing (apt-get install cpio kmod xz-utils busybox-static)" >&2; exit 1; }
done
mkdir -p "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The kernel: the first xz stream in the bzImage that decompresses to an ELF file.
if [ ! -s "$cache/vmlinux" ]; then
  image=/boot/vmlinuz-$kver
  found=
  for offset in $(LC_ALL=C grep -obaP '\xfd7zXZ\x00' "$image" | cut -d: -f1); do
    if tail -c +"$((offset + 1))" "$image" | xz -dc 2>/dev/null >"$work/vmlinux"; [ "$(head -c 4 "$work/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
      found=1
      break
    fi
  done
  [ -n "$found" ] || { echo "v2vm: no xz-compressed ELF kernel inside $image" >&2; exit 1; }
  mv "$work/vmlinux" "$cache/vmlinux"
fi

root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,mod,mnt/host,mnt/share,mnt/upper,newroot}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
# Modules with their dependencies, in load order, once each.
for module in virtio_pci 9pnet_virtio 9p overlay virtio_blk virtio_rng ext4 bfq; do
  modprobe -S "$kver" --show-depends "$module" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r object; do
  # busybox insmod takes plain objects; newer kernels ship them compressed.
  name=$(basename "$object")
  case "$name" in
    *.ko.xz) xz -dc "$object" >"$root/mod/${name%.xz}" ;;
    *.ko.zst) zstd -qdc "$object" >"$root/mod/${name%.zst}" ;;
    *) cp "$object" "$root/mod/" ;;
  esac
  echo "${name%.ko*}.ko" >>"$root/mod/order"
done
cp "$here/init.sh" "$root/init"
chmod 755 "$root/init"
# The kernel opens /dev/console for init before anything mounts devtmpfs.
mknod -m 600 "$root/dev/console" c 5 1
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) >"$work/initramfs.cpio"
mv "$work/initramfs.cpio" "$cache/initramfs.cpio"
echo "$stamp" >"$cache/stamp"
echo "v2vm: built $cache (modules: $(tr '\n' ' ' <"$root/mod/order"))" >&2
echo "$cache"
