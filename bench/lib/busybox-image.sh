# Sourced by the benchmarks that compare gantry with podman on the same root filesystem: busybox
# and its applets, made into an OCI image with umoci and imported into both engines.
# Needs $work, $gantry (lib/gantry.sh) and the podman array (lib/podman.sh), umoci and
# busybox-static; defines the functions busybox_rootfs and import_busybox_image.

# Writes the root filesystem into directory $1.
busybox_rootfs() {
  local rootfs=$1
  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev"
  cp "$(command -v busybox)" "$rootfs/bin/busybox"
  for applet in $("$rootfs/bin/busybox" --list); do [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
  echo 'root:x:0:' > "$rootfs/etc/group"
}

# Makes the root filesystem in directory $1 an OCI image (layout $work/layout, tag bb, CMD sh)
# and imports it: into gantry as bb:latest, into podman; sets podman_image to podman's image ID.
import_busybox_image() {
  local rootfs=$1 layout="$work/layout"
  umoci init --layout "$layout" >/dev/null
  umoci new --image "$layout:bb" >/dev/null
  umoci unpack --rootless=false --image "$layout:bb" "$work/unpacked" >/dev/null 2>&1 || umoci unpack --image "$layout:bb" "$work/unpacked" >/dev/null
  cp -a "$rootfs/." "$work/unpacked/rootfs/"
  umoci repack --image "$layout:bb" "$work/unpacked" >/dev/null
  umoci config --image "$layout:bb" --config.cmd sh >/dev/null
  "$gantry" image import "$layout" bb:latest >/dev/null
  "${podman[@]}" pull -q "oci:$layout:bb" >/dev/null
  podman_image=$("${podman[@]}" images -q | head -1)
}
