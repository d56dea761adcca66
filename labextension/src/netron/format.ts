// Human-readable sizes for the netron card (pure: no JupyterLab imports).

const UNITS = ['kB', 'MB', 'GB', 'TB'];

/** `1234` -> `"1.2 kB"`, `999` -> `"999 bytes"`: decimal units, as file managers show them. */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) {
    return 'unknown size';
  }
  if (bytes < 1000) {
    return bytes === 1 ? '1 byte' : `${Math.round(bytes)} bytes`;
  }
  let value = bytes / 1000;
  let index = 0;
  // Thresholds below 1000 so that rounding never prints "1000 kB".
  while (value >= 999.5 && index < UNITS.length - 1) {
    value /= 1000;
    index += 1;
  }
  const digits = value < 9.95 ? 1 : 0;
  return `${value.toFixed(digits)} ${UNITS[index]}`;
}
