/**
 * The split of a device number (dev_t) into major and minor, shared by everything that copies
 * device nodes (COPY --from, volume pre-fill, cp) and by the cgroup device flags. The bigint path
 * keeps the high bits of a 64-bit dev_t that a double would round away.
 */

/** major/minor of a dev_t as glibc's gnu_dev_major/minor split it. */
export function splitDeviceNumber(rdev: number | bigint): { major: number; minor: number } {
  const dev = BigInt(rdev);
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return { major: Number(major & 0xffffffffn), minor: Number(minor & 0xffffffffn) };
}
