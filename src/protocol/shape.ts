/**
 * Shape checks for the JSON the client reads on every command (replies, trailers, tree
 * records): plain functions, built when their module loads at almost no cost. They replace
 * zod on the client's path because zod's import and first schemas cost a `bftp get` about
 * 45 ms of start-up (docs/performance.md, "Start-up without zod on the client's path"); the
 * server, whose start-up is paid once, keeps zod for its requests and its users file.
 *
 * A shape is a type guard: it says whether a value has the shape, and changes nothing. Keys
 * not named are allowed, as in zod's `looseObject`, unless the object is made with
 * {@link strictObject}. Numbers must be finite; integers safe integers (as zod's `int()`).
 *
 * @example
 * const entry = object({ name: string(4096), size: integer(0) });
 * if (!entry(JSON.parse(text))) throw new Error("not an entry");
 */

/** Says whether a value has the shape `T` (a type guard; the value is not changed). */
export type Shape<T> = (value: unknown) => value is T;

/** A shape that also accepts a missing key (or `undefined`), made by {@link optional}. */
export type OptionalShape<T> = Shape<T | undefined> & { readonly optional: true };

/** The type a shape accepts. */
export type Infer<S> = S extends Shape<infer T> ? T : never;

type Fields = Readonly<Record<string, Shape<unknown>>>;
type OptionalKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends { readonly optional: true } ? K : never;
}[keyof F];

/** The object type of a set of fields: optional shapes make optional keys (as zod infers). */
export type ObjectOf<F extends Fields> = {
  -readonly [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]>;
} & { -readonly [K in OptionalKeys<F>]?: Infer<F[K]> };

/** A string of at most `max` UTF-16 units (and at least `min`), matching `pattern` if given. */
export function string(
  max: number,
  options: { min?: number; pattern?: RegExp } = {},
): Shape<string> {
  const min = options.min ?? 0;
  const { pattern } = options;
  return (value): value is string =>
    typeof value === "string" &&
    value.length <= max &&
    value.length >= min &&
    (pattern === undefined || pattern.test(value));
}

/** A safe integer within `[min, max]`. */
export function integer(
  min: number = Number.MIN_SAFE_INTEGER,
  max: number = Number.MAX_SAFE_INTEGER,
): Shape<number> {
  return (value): value is number =>
    typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max;
}

/** A byte count or offset: a safe integer of at least 0. */
export const u64: Shape<number> = integer(0);

/** `true` or `false`. */
export const boolean: Shape<boolean> = (value): value is boolean => typeof value === "boolean";

/** Exactly one of `values` (zod's `literal` and `enum`). */
export function oneOf<const V extends readonly (string | number | boolean)[]>(
  values: V,
): Shape<V[number]> {
  return (value): value is V[number] => (values as readonly unknown[]).includes(value);
}

/** `shape`, or a missing key (`undefined`). */
export function optional<T>(shape: Shape<T>): OptionalShape<T> {
  const check = (value: unknown): value is T | undefined => value === undefined || shape(value);
  return Object.assign(check, { optional: true as const });
}

/** An array of at most `max` items, each of `item`'s shape. */
export function array<T>(item: Shape<T>, max: number): Shape<T[]> {
  return (value): value is T[] => {
    if (!Array.isArray(value) || value.length > max) return false;
    for (const v of value as unknown[]) if (!item(v)) return false;
    return true;
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An object with (at least) these fields; other keys are allowed and kept. */
export function object<F extends Fields>(fields: F): Shape<ObjectOf<F>> {
  const keys = Object.keys(fields);
  const shapes = Object.values(fields);
  /** Keys Object.prototype has (`toString`, `constructor`...): always read with hasOwn. */
  const inherited = keys.map((key) => key in Object.prototype);
  return (value): value is ObjectOf<F> => {
    if (!isPlainObject(value)) return false;
    // What JSON.parse and the hand readers make has Object.prototype behind it: for a key
    // that prototype lacks, a plain read is an own read, without a call per field.
    const plain = Object.getPrototypeOf(value) === Object.prototype;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const own = plain && !inherited[i] ? true : Object.hasOwn(value, key);
      if (!(shapes[i] as Shape<unknown>)(own ? value[key] : undefined)) return false;
    }
    return true;
  };
}

/** An object with these fields and no other key. */
export function strictObject<F extends Fields>(fields: F): Shape<ObjectOf<F>> {
  const loose = object(fields);
  return (value): value is ObjectOf<F> => {
    if (!loose(value)) return false;
    for (const key of Object.keys(value)) if (!Object.hasOwn(fields, key)) return false;
    return true;
  };
}

/** Either shape. */
export function either<A, B>(a: Shape<A>, b: Shape<B>): Shape<A | B> {
  return (value): value is A | B => a(value) || b(value);
}

/** `shape`, and `test` holds too (zod's `refine`). */
export function refine<T>(shape: Shape<T>, test: (value: T) => boolean): Shape<T> {
  return (value): value is T => shape(value) && test(value);
}
