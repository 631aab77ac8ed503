/**
 * Line charts as inline SVG text, for the self-contained HTML report of `bftp bench`: no
 * script and no external resource is needed to see them. Every point is a `<circle>` with a
 * `<title>` (the browser shows it on hover), every text is escaped.
 */

/** One line of a chart. */
export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [x: number, y: number])[];
}

/** What to draw. */
export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Vertical markers (e.g. where each size began). */
  readonly marks?: readonly { readonly x: number; readonly label: string }[];
  /** Logarithmic y axis (for values that span orders of magnitude); needs y > 0. */
  readonly logY?: boolean;
  readonly width?: number;
  readonly height?: number;
  /** How a y value is written on the axis and in tooltips. */
  readonly formatY?: (y: number) => string;
  readonly formatX?: (x: number) => string;
}

/** Colours that stay apart for up to ten series (and print in grey as different shades). */
const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#7f7f7f",
  "#bcbd22",
];

/** Escapes text for HTML and SVG content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * An `<svg>` element drawing `spec`: axes with ticks, one polyline and its points per
 * series, a legend. A chart with no points says so instead.
 *
 * @example lineChart({ title: "MB/s", xLabel: "iteration", yLabel: "MB/s", series: [{ name: "1 MiB", points: [[1, 800]] }] })
 */
export function lineChart(spec: ChartSpec): string {
  const width = spec.width ?? 900;
  const height = spec.height ?? 380;
  const fmtY = spec.formatY ?? shortNumber;
  const fmtX = spec.formatX ?? shortNumber;
  const margin = { left: 72, right: 150, top: 34, bottom: 48 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const points = spec.series
    .flatMap((s) => s.points)
    .filter(([, y]) => Number.isFinite(y) && (spec.logY !== true || y > 0));
  const out: string[] = [
    `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(spec.title)}">`,
    `<text x="${width / 2}" y="20" text-anchor="middle" class="title">${escapeHtml(spec.title)}</text>`,
  ];
  if (points.length === 0) {
    out.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle">no data</text></svg>`);
    return out.join("\n");
  }
  const xs = points.map(([x]) => x).concat((spec.marks ?? []).map((m) => m.x));
  const ys = points.map(([, y]) => y);
  const xScale = linearScale(Math.min(...xs), Math.max(...xs));
  const yScale =
    spec.logY === true
      ? logScale(Math.min(...ys), Math.max(...ys))
      : linearScale(Math.min(0, ...ys), Math.max(...ys));
  const px = (x: number): number => margin.left + xScale.at(x) * plotW;
  const py = (y: number): number => margin.top + (1 - yScale.at(y)) * plotH;
  const r = (n: number): string => n.toFixed(1);

  out.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" class="plot"/>`,
  );
  for (const t of yScale.ticks) {
    out.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${r(py(t))}" y2="${r(py(t))}" class="grid"/>`,
      `<text x="${margin.left - 6}" y="${r(py(t) + 4)}" text-anchor="end" class="tick">${escapeHtml(fmtY(t))}</text>`,
    );
  }
  for (const t of xScale.ticks) {
    out.push(
      `<line x1="${r(px(t))}" x2="${r(px(t))}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 5}" class="axis"/>`,
      `<text x="${r(px(t))}" y="${margin.top + plotH + 18}" text-anchor="middle" class="tick">${escapeHtml(fmtX(t))}</text>`,
    );
  }
  out.push(
    `<text x="${margin.left + plotW / 2}" y="${height - 8}" text-anchor="middle" class="label">${escapeHtml(spec.xLabel)}</text>`,
    `<text x="16" y="${margin.top + plotH / 2}" text-anchor="middle" class="label" transform="rotate(-90 16 ${margin.top + plotH / 2})">${escapeHtml(spec.yLabel)}</text>`,
  );
  // Marks close together share the top of the plot: each label goes on the first of five
  // rows where it does not overlap the one before it, or is left out (the line keeps a title).
  const rowEnds: number[] = [];
  for (const mark of spec.marks ?? []) {
    const x = px(mark.x);
    const width = mark.label.length * 6.5 + 6;
    let row = rowEnds.findIndex((end) => end <= x);
    if (row < 0 && rowEnds.length < 5) row = rowEnds.push(0) - 1;
    out.push(
      `<line x1="${r(x)}" x2="${r(x)}" y1="${margin.top}" y2="${margin.top + plotH}" class="mark"><title>${escapeHtml(mark.label)}</title></line>`,
    );
    if (row < 0) continue;
    rowEnds[row] = x + width;
    out.push(
      `<text x="${r(x + 3)}" y="${margin.top + 12 + row * 13}" class="marklabel">${escapeHtml(mark.label)}</text>`,
    );
  }
  spec.series.forEach((series, i) => {
    const colour = PALETTE[i % PALETTE.length] ?? "#000";
    const shown = series.points.filter(
      ([, y]) => Number.isFinite(y) && (spec.logY !== true || y > 0),
    );
    const path = shown.map(([x, y]) => `${r(px(x))},${r(py(y))}`).join(" ");
    out.push(`<g class="series" data-series="${escapeHtml(series.name)}">`);
    if (shown.length > 1)
      out.push(`<polyline points="${path}" fill="none" stroke="${colour}" stroke-width="1.8"/>`);
    if (shown.length <= 400) {
      for (const [x, y] of shown) {
        out.push(
          `<circle cx="${r(px(x))}" cy="${r(py(y))}" r="2.6" fill="${colour}"><title>${escapeHtml(`${series.name}: ${fmtX(x)}, ${fmtY(y)}`)}</title></circle>`,
        );
      }
    }
    const ly = margin.top + 8 + i * 18;
    out.push(
      `<line x1="${margin.left + plotW + 12}" x2="${margin.left + plotW + 32}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="3"/>`,
      `<text x="${margin.left + plotW + 38}" y="${ly + 4}" class="legend">${escapeHtml(series.name)}</text>`,
      `</g>`,
    );
  });
  out.push(`</svg>`);
  return out.join("\n");
}

/** Where a value falls on an axis (0..1), and the ticks to draw. */
interface Scale {
  at(value: number): number;
  readonly ticks: readonly number[];
}

function linearScale(min: number, max: number): Scale {
  if (max <= min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return linearScale(min - pad, max + pad);
  }
  const step = niceStep((max - min) / 6);
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let t = lo; t <= hi + step / 2 && ticks.length < 20; t += step)
    ticks.push(Number(t.toPrecision(12)));
  return { at: (v) => (v - lo) / (hi - lo), ticks };
}

function logScale(min: number, max: number): Scale {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(max)));
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
  return { at: (v) => (Math.log10(v) - lo) / (hi - lo), ticks };
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
}

/** 0.01, 12.5, 830, 12k, 1.2M: short enough for an axis. */
export function shortNumber(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e6) return `${Number((n / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((n / 1e3).toPrecision(3))}k`;
  if (a >= 100 || a === 0) return String(Math.round(n));
  return String(Number(n.toPrecision(3)));
}
