import type cliProgress from "cli-progress";
import type { Progress, ProgressHandler } from "../client/progress.js";
import { escapeControls } from "../client/safe-name.js";
import { formatBytes, type CommonFlags } from "./common.js";

/** One drawn line: what it counts and how far it has come. */
export interface ProgressRow {
  /** Already escaped for the terminal. */
  readonly label: string;
  readonly bytes: number;
  readonly total: number | undefined;
  /** Bytes per second. */
  readonly rate: number;
}

/** Where bars are drawn: a stream that may be a terminal. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/**
 * Whether transfers draw progress bars: when stderr is a terminal, or when `BFTP_PROGRESS=1`
 * forces it (a pseudo-terminal test, a log that wants them); never with -q or --json, and
 * `BFTP_PROGRESS=0` turns them off. Off a terminal a command prints only its result.
 */
export function shouldDraw(
  flags: CommonFlags,
  stream: ProgressStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (flags.quiet === true || flags.json === true) return false;
  if (flags.progress !== undefined) return flags.progress;
  if (env["BFTP_PROGRESS"] === "1") return true;
  if (env["BFTP_PROGRESS"] === "0") return false;
  return stream.isTTY === true;
}

/**
 * Progress bars for transfers, drawn by cli-progress on stderr: one line per file in flight
 * (name, bar, percentage, bytes, rate, ETA) and, once {@link ProgressDisplay.expect} is told
 * the plan of a recursive transfer, a total line. It is fed the library's numbers (the
 * `onProgress` handler and {@link ProgressDisplay.done}); when not drawing, every call is a
 * no-op, so commands use it unconditionally.
 *
 * @example
 * const display = await ProgressDisplay.for(flags);
 * try { await client.download(remote, local, { onProgress: display.onProgress }) }
 * finally { display.stop() }
 */
export class ProgressDisplay {
  readonly #stream: ProgressStream;
  readonly #drawing: boolean;
  #multi: cliProgress.MultiBar | undefined;
  readonly #inFlight = new Map<string, { bytes: number; bar?: cliProgress.SingleBar }>();
  #plan: { files: number; bytes: number; bar?: cliProgress.SingleBar } | undefined;
  #doneFiles = 0;
  #doneBytes = 0;
  #logged = false;
  readonly #started = performance.now();

  readonly #library: typeof cliProgress | undefined;

  /**
   * A display that draws with `library` (the `cli-progress` module), or draws nothing
   * without it; {@link ProgressDisplay.create} loads it only when drawing.
   */
  constructor(library: typeof cliProgress | undefined, stream: ProgressStream = process.stderr) {
    this.#library = library;
    this.#drawing = library !== undefined;
    this.#stream = stream;
  }

  /**
   * A display that draws if `drawing`. cli-progress (and string-width under it) is loaded
   * only then: a quiet or piped run does not pay for it at start-up (issue 12, item 4).
   */
  static async create(drawing: boolean, stream?: ProgressStream): Promise<ProgressDisplay> {
    const library = drawing ? (await import("cli-progress")).default : undefined;
    if (drawing) await loadColumnWidths();
    return new ProgressDisplay(library, stream);
  }

  /** A display for a command's flags: drawing only where {@link shouldDraw} says so. */
  static for(flags: CommonFlags): Promise<ProgressDisplay> {
    return ProgressDisplay.create(shouldDraw(flags));
  }

  /** True when bars are drawn. */
  get drawing(): boolean {
    return this.#drawing;
  }

  /** Announces a recursive transfer's size, which adds the total line (drawn at once). */
  expect(files: number, bytes: number): void {
    if (!this.#drawing) return;
    this.#plan = { files, bytes };
    this.#plan.bar = this.#bars().create(bytes, 0, { row: this.#totalRow() });
    this.#bars().update();
  }

  /**
   * Shows a file's line at once, before its first report (which comes after 100 ms): a
   * single transfer always draws its bar, as scp does, however quickly it ends.
   */
  begin(name: string, total?: number): void {
    if (!this.#drawing || this.#inFlight.has(name)) return;
    const row: ProgressRow = { label: escapeControls(name), bytes: 0, total, rate: 0 };
    const bar = this.#bars().create(total ?? 0, 0, { row });
    this.#inFlight.set(name, { bytes: 0, bar });
    this.#bars().update();
  }

  /** The handler to pass as `onProgress`. */
  readonly onProgress: ProgressHandler = (p: Progress) => {
    if (!this.#drawing) return;
    let file = this.#inFlight.get(p.name);
    if (file === undefined) {
      file = { bytes: p.bytes };
      this.#inFlight.set(p.name, file);
      // A file whose first report is its last (a small one) gets no line of its own.
      if (p.total === undefined || p.bytes < p.total) {
        file.bar = this.#bars().create(p.total ?? 0, p.bytes, { row: rowOf(p) });
      }
    }
    file.bytes = p.bytes;
    if (file.bar !== undefined) {
      if (p.total !== undefined) file.bar.setTotal(p.total);
      file.bar.update(p.bytes, { row: rowOf(p) });
    }
    this.#updateTotal();
  };

  /** A file finished: its line goes, the total counts it (`size` is the complete file's). */
  done(name: string, size: number): void {
    if (!this.#drawing) return;
    const file = this.#inFlight.get(name);
    this.#inFlight.delete(name);
    if (file?.bar !== undefined) {
      // A single transfer that ends between two frames (a fast GET does, off a terminal with
      // its 250 ms schedule) still shows its finished line once, as scp does.
      if (this.#plan === undefined) this.#multi?.update();
      this.#multi?.remove(file.bar);
    }
    this.#doneFiles++;
    this.#doneBytes += size;
    this.#updateTotal();
  }

  /** Prints a line above the bars (or plainly, when not drawing). Ends with a newline. */
  log(line: string): void {
    if (this.#multi?.isActive === true) {
      this.#multi.log(`${line}\n`);
      this.#logged = true;
    } else this.#stream.write(`${line}\n`);
  }

  /** Clears the bars; call before printing the result. Safe to call twice. */
  stop(): void {
    const multi = this.#multi;
    this.#multi = undefined;
    if (multi === undefined) return;
    // A last frame: lines logged since the last redraw, and the final figures (off a
    // terminal they stay; on one, stop() clears them).
    const shown = this.#plan !== undefined || [...this.#inFlight.values()].some((f) => f.bar);
    if (this.#logged || shown) multi.update();
    multi.stop();
  }

  #bars(): cliProgress.MultiBar {
    const library = this.#library;
    if (library === undefined) throw new Error("ProgressDisplay: drawing without cli-progress");
    this.#multi ??= new library.MultiBar({
      stream: this.#stream,
      format: (_options, params, payload: { row?: ProgressRow }) =>
        payload.row === undefined ? "" : renderRow(payload.row, params.maxWidth - 1),
      fps: 10,
      hideCursor: false, // nothing to restore if the process is killed mid-transfer
      clearOnComplete: true,
      linewrap: true, // trim each line to the terminal's width
      gracefulExit: false, // its SIGINT handler would keep Ctrl-C from ending the process
      noTTYOutput: this.#stream.isTTY !== true, // BFTP_PROGRESS=1 off a terminal
      notTTYSchedule: 250,
      emptyOnZero: true,
    });
    return this.#multi;
  }

  #updateTotal(): void {
    const plan = this.#plan;
    if (plan?.bar === undefined) return;
    const row = this.#totalRow();
    plan.bar.update(row.bytes, { row });
  }

  #totalRow(): ProgressRow {
    let bytes = this.#doneBytes;
    for (const file of this.#inFlight.values()) bytes += file.bytes;
    const seconds = (performance.now() - this.#started) / 1000;
    return {
      label: `total ${this.#doneFiles}/${this.#plan?.files ?? 0} files`,
      bytes,
      total: this.#plan?.bytes,
      rate: seconds > 0.2 ? bytes / seconds : 0,
    };
  }
}

function rowOf(p: Progress): ProgressRow {
  return { label: escapeControls(p.name), bytes: p.bytes, total: p.total, rate: p.rate };
}

/**
 * One progress line fitted to `width` columns:
 * `NAME [=====>    ]  42% 84.0 MiB/200.0 MiB 310.2 MiB/s ETA 0:01`. The name is cut from
 * the left (`…/sub/file.bin`), so the end of a long path stays visible.
 */
export function renderRow(row: ProgressRow, width: number): string {
  const total = row.total ?? 0;
  const known = total > 0;
  const fraction = known ? Math.min(1, row.bytes / total) : 0;
  const percent = known ? `${Math.floor(fraction * 100)}%`.padStart(4) : "   ?";
  const size = known ? `${formatBytes(row.bytes)}/${formatBytes(total)}` : formatBytes(row.bytes);
  const eta = known && row.rate > 0 ? clock((total - row.bytes) / row.rate) : "--:--";
  const right = `${percent} ${size} ${formatBytes(Math.round(row.rate))}/s ETA ${eta}`;
  const labelWidth = Math.max(8, Math.min(32, Math.floor(width / 3)));
  const label = fit(row.label, labelWidth);
  const barWidth = Math.max(0, Math.min(30, width - labelWidth - right.length - 4));
  const filled = Math.round(fraction * barWidth);
  const head = filled === 0 ? "" : filled === barWidth ? "=" : ">";
  const bar =
    barWidth === 0
      ? ""
      : ` [${"=".repeat(Math.max(0, filled - 1))}${head}${" ".repeat(barWidth - filled)}]`;
  return `${label}${bar} ${right}`;
}

/**
 * `text` cut or padded to exactly `width` terminal columns, keeping its end. Columns, not
 * characters: a CJK character or an emoji takes two (string-width, the library cli-progress
 * itself measures with), so the bars of `報告書.pdf` and `report.pdf` line up.
 */
function fit(text: string, width: number): string {
  graphemes ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  const measure = columnsOf ?? ((): number => 1);
  const chars = Array.from(graphemes.segment(text), (s) => s.segment);
  const widths = chars.map((c) => measure(c));
  const total = widths.reduce((sum, w) => sum + w, 0);
  if (total <= width) return text + " ".repeat(width - total);
  // Keep as much of the end as fits after the "…", then pad if a wide character did not fit.
  let used = 1;
  let from = chars.length;
  while (from > 0 && used + (widths[from - 1] ?? 1) <= width) used += widths[--from] ?? 1;
  return `…${chars.slice(from).join("")}${" ".repeat(width - used)}`;
}

/**
 * Made on first use: building a segmenter loads ICU's break rules, about 10 ms that every
 * `get` and `put` paid at start-up whether or not it drew a bar (issue 12, item 4).
 */
let graphemes: Intl.Segmenter | undefined;

/** Terminal columns of a string (string-width), loaded with cli-progress: only to draw. */
let columnsOf: ((text: string) => number) | undefined;

/** Loads what measuring names in columns needs (done by {@link ProgressDisplay.create}). */
export async function loadColumnWidths(): Promise<void> {
  columnsOf ??= (await import("string-width")).default;
}

/** Seconds as m:ss or h:mm:ss. */
function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds > 359_999) return "--:--";
  const s = Math.ceil(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}
