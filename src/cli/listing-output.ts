import type { Entry } from "../client/reply-shapes.js";
import { jsonLine, type CommonFlags } from "./common.js";
import { formatEntries, sizeWidth, type ListingStyle } from "./entry-format.js";

/**
 * Entries `bftp ls` holds to print them sorted by name. A folder with more is printed as its
 * entries arrive, in the server's order, so memory stays bounded whatever the folder holds
 * (issue 11, item 7: a folder of 100,001 entries failed).
 */
export const SORTED_LISTING_MAX = 10_000;

/**
 * The output of `bftp ls`, fed batch by batch as LIST's data frames arrive. Up to
 * {@link SORTED_LISTING_MAX} entries are held, for the caller to print sorted; past it,
 * what is held is printed and every later batch is printed at once: text lines, or with
 * --json the same one-line document `{"ok":true,"path":...,"entries":[...]}` written piece
 * by piece.
 *
 * @example
 * const out = new ListingOutput(flags, "/docs");
 * await client.list("/docs", { onEntries: (batch) => out.add(batch) });
 * out.finish();
 */
export class ListingOutput {
  readonly #flags: CommonFlags;
  readonly #path: string;
  #held: Entry[] = [];
  /** Set once the listing outgrew the sort limit and printing began. */
  #streaming = false;
  #width = 1;
  #written = 0;

  readonly #style: ListingStyle;

  constructor(
    flags: CommonFlags,
    path: string,
    style: ListingStyle = { long: true, human: false },
  ) {
    this.#flags = flags;
    this.#path = path;
    this.#style = style;
  }

  /** Entries seen so far. */
  get count(): number {
    return this.#written + this.#held.length;
  }

  /** True once output has begun (the listing is past the sort limit). */
  get streaming(): boolean {
    return this.#streaming;
  }

  /** Takes one batch: held while the listing may still be sorted, printed once it cannot. */
  add(batch: readonly Entry[]): void {
    if (!this.#streaming) {
      this.#held.push(...batch);
      if (this.#held.length <= SORTED_LISTING_MAX) return;
      this.#streaming = true;
      this.#width = sizeWidth(this.#held);
      if (this.#flags.json === true) {
        this.#write(jsonLine({ ok: true, path: this.#path, entries: [] }).slice(0, -2));
      }
      const held = this.#held;
      this.#held = [];
      this.#print(held);
      return;
    }
    this.#print(batch);
  }

  /**
   * Ends the listing: closes the document being streamed and returns true when the entries
   * were printed as they came; returns false when they are all still held (the caller then
   * prints {@link sorted} the usual way).
   */
  finish(): boolean {
    if (!this.#streaming) return false;
    if (this.#flags.json === true) this.#write("]}\n");
    return true;
  }

  /**
   * After a failure: a line left open by a streamed --json document is ended, so the error
   * document that follows stands on its own line.
   */
  interrupt(): void {
    if (this.#streaming && this.#flags.json === true) this.#write("\n");
  }

  /** The held entries, sorted by name (byte order of the UTF-16 code units, as before). */
  sorted(): Entry[] {
    return this.#held.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  #print(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    if (this.#flags.json === true) {
      const items = entries.map((e) => jsonLine(e)).join(",");
      this.#write(this.#written === 0 ? items : `,${items}`);
    } else if (this.#flags.quiet !== true) {
      this.#write(`${formatEntries(entries, this.#style, this.#width).join("\n")}\n`);
    }
    this.#written += entries.length;
  }

  #write(text: string): void {
    process.stdout.write(text);
  }
}
