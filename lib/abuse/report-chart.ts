/**
 * Small inline SVG bar charts for reports: horizontal bars (counts by category) and vertical
 * columns (a series over days). Pure string output, every label escaped, no scripts, no
 * external fonts: the HTML report stays self-contained. Written here rather than taken from a
 * library because the server-side SVG renderers (vega, chart.js with a canvas shim, d3 with
 * jsdom) pull in a DOM or native canvas for two chart shapes that take ~80 lines.
 */
import { escapeHtml } from './escape-html.js';

/** One bar. */
export interface ChartBar {
  readonly label: string;
  readonly value: number;
}

/** Options of a chart. */
export interface ChartOptions {
  /** Accessible title (SVG `<title>` and `aria-label`). Required. */
  readonly title: string;
  /** Width in px. Default 640. */
  readonly width?: number;
  /** Bar colour. Default `#3b6ea5`. */
  readonly color?: string;
}

const FONT = 'font-family="system-ui, sans-serif" font-size="12"';
const fmt = (value: number): string => (Number.isInteger(value) ? String(value) : value.toFixed(1));

function frame(title: string, width: number, height: number, body: string): string {
  const safe = escapeHtml(title);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="${safe}" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}"><title>${safe}</title>${body}</svg>`
  );
}

/** Characters of a bar label that fit its 192 px column at 12 px (≈ 7 px per character). */
export const MAX_LABEL_CHARS = 26;

/** A label cut to {@link MAX_LABEL_CHARS} with an ellipsis, so it is never clipped by the SVG's edge. */
export function fitLabel(label: string): string {
  const chars = [...label];
  return chars.length <= MAX_LABEL_CHARS ? label : `${chars.slice(0, MAX_LABEL_CHARS - 1).join('')}…`;
}

/** Horizontal bars, one row per bar, labels on the left and values at the bar ends. */
export function renderBarChart(bars: readonly ChartBar[], options: ChartOptions): string {
  const width = options.width ?? 640;
  const color = escapeHtml(options.color ?? '#3b6ea5');
  const row = 24;
  const labelWidth = 200;
  const plot = width - labelWidth - 60;
  const max = Math.max(1, ...bars.map(({ value }) => value));
  const height = Math.max(1, bars.length) * row + 8;
  const body = bars
    .map(({ label, value }, i) => {
      const y = 4 + i * row;
      const w = Math.max(0, Math.round((value / max) * plot));
      return (
        `<text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end" ${FONT}><title>${escapeHtml(label)}</title>${escapeHtml(fitLabel(label))}</text>` +
        `<rect class="bar" x="${labelWidth}" y="${y + 3}" width="${w}" height="${row - 6}" fill="${color}"/>` +
        `<text x="${labelWidth + w + 6}" y="${y + 16}" ${FONT}>${fmt(value)}</text>`
      );
    })
    .join('');
  return frame(options.title, width, height, bars.length === 0 ? `<text x="8" y="20" ${FONT}>No data</text>` : body);
}

/** Vertical columns over a series (e.g. days), with the first and last labels and the maximum. */
export function renderColumnChart(columns: readonly ChartBar[], options: ChartOptions): string {
  const width = options.width ?? 640;
  const color = escapeHtml(options.color ?? '#3b6ea5');
  const height = 180;
  const top = 20;
  const bottom = 24;
  const plotHeight = height - top - bottom;
  const max = Math.max(1, ...columns.map(({ value }) => value));
  const slot = (width - 16) / Math.max(1, columns.length);
  const bars = columns
    .map(({ label, value }, i) => {
      const h = Math.round((value / max) * plotHeight);
      const x = 8 + i * slot;
      return `<rect class="bar" x="${x.toFixed(1)}" y="${top + plotHeight - h}" width="${Math.max(1, slot - 2).toFixed(1)}" height="${h}" fill="${color}"><title>${escapeHtml(label)}: ${fmt(value)}</title></rect>`;
    })
    .join('');
  const first = columns[0];
  const last = columns.at(-1);
  const axis =
    `<line x1="8" y1="${top + plotHeight}" x2="${width - 8}" y2="${top + plotHeight}" stroke="#888"/>` +
    `<text x="8" y="14" ${FONT}>max ${fmt(max)}</text>` +
    (first ? `<text x="8" y="${height - 6}" ${FONT}>${escapeHtml(first.label)}</text>` : '') +
    (last && columns.length > 1 ? `<text x="${width - 8}" y="${height - 6}" text-anchor="end" ${FONT}>${escapeHtml(last.label)}</text>` : '');
  return frame(options.title, width, height, axis + bars);
}
