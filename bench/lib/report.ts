import { round } from './stats';

/**
 * One line of the results table. `ratio` is always gateway cost over baseline
 * cost (time, latency, memory): 1.0 means as cheap as the bare component,
 * 2.0 twice as expensive. For rates that is baseline rate / gateway rate.
 */
export interface Row {
  readonly scenario: string;
  readonly metric: string;
  readonly unit: string;
  readonly gateway: number | null;
  readonly baseline: number | null;
  readonly ratio: number | null;
  readonly target: string | null;
  /** Whether the target is met; null when the row has no target or could not be measured. */
  readonly met: boolean | null;
}

/** Builds a row, computing the ratio: `higherIsBetter` for rates. */
export function row(
  scenario: string,
  metric: string,
  unit: string,
  gateway: number | null | undefined,
  baseline: number | null | undefined,
  options: { higherIsBetter?: boolean; target?: string; met?: boolean | null } = {},
): Row {
  const g = gateway ?? null;
  const b = baseline ?? null;
  let ratio: number | null = null;
  if (g !== null && b !== null && Number.isFinite(g) && Number.isFinite(b) && g > 0 && b > 0) {
    ratio = options.higherIsBetter ? b / g : g / b;
  }
  return {
    scenario,
    metric,
    unit,
    gateway: g === null ? null : round(g),
    baseline: b === null ? null : round(b),
    ratio: ratio === null ? null : round(ratio),
    target: options.target ?? null,
    met: options.met ?? null,
  };
}

function formatNumber(value: number | null, unit: string): string {
  if (value === null || !Number.isFinite(value)) return '—';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const text = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return unit ? `${text} ${unit}` : text;
}

/** The table as aligned plain text (also valid Markdown when `markdown`). */
export function formatTable(rows: readonly Row[], markdown = false): string {
  const header = ['Scenario', 'Metric', 'Gateway', 'Baseline', 'Ratio', 'Target', 'Met'];
  const cells = rows.map((r) => [
    r.scenario,
    r.metric,
    formatNumber(r.gateway, r.unit),
    formatNumber(r.baseline, r.unit),
    r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`,
    r.target ?? '',
    r.met === null ? (r.target ? 'n/a' : '') : r.met ? 'met' : 'NOT MET',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const right = new Set([2, 3, 4]);
  const line = (values: string[]) => {
    const padded = values.map((v, i) => (right.has(i) ? v.padStart(widths[i]) : v.padEnd(widths[i])));
    return markdown ? `| ${padded.join(' | ')} |` : padded.join('  ').trimEnd();
  };
  const separator = markdown
    ? `|${widths.map((w, i) => (right.has(i) ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`
    : widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), separator, ...cells.map(line)].join('\n');
}
