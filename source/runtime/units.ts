/**
 * The one unit system of Gantry's output, docker's: sizes of images, layers, files and I/O in
 * decimal units ("5.12MB", as `docker images` and `docker history`), memory in binary units with
 * IEC names ("32MiB", as `docker stats`; memory flags like `--memory 32m` are 1024-based too).
 * The CLI, the TUI and the runtime's error messages all format through here.
 */

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** docker's HumanSize: decimal units, 3 significant digits ("5.12MB"). */
export function decimalSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < DECIMAL_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${Number(value.toPrecision(3))}${DECIMAL_UNITS[unit]}`;
}

/** Binary units for memory ("32MiB", "104.16MiB"), as docker stats shows them. */
export function binarySize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BINARY_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number(value.toFixed(unit === 0 ? 0 : 2))}${BINARY_UNITS[unit]}`;
}

/** A memory figure as an error message names it: binary units, or "unlimited" for none. */
export function memoryAmount(bytes: number | undefined): string {
  if (bytes === undefined || bytes < 0 || bytes >= 2 ** 62) return 'unlimited';
  return binarySize(bytes);
}
