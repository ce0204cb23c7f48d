// kubectl-style plain tables: upper-case headers, columns padded with three
// spaces, no borders, so output stays greppable and awk-able.

export const NONE = '<none>';
const GAP = '   ';

export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join(GAP)
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** Age like kubectl: 45s, 12m, 5h, 3d, 2y; <unknown> for a missing or bad timestamp. */
export function formatAge(timestamp: string | undefined, now: number = Date.now()): string {
  if (timestamp === undefined) return '<unknown>';
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return '<unknown>';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

export function cell(value: string | number | undefined | null): string {
  return value === undefined || value === null || value === '' ? NONE : String(value);
}
