// How values and core's texts appear in error messages: short whatever the
// value, and in milliseconds, the one unit of this API.

/** The most characters a rendered value takes in a message. */
const MAX_CHARS = 48;
/** The most items of an array a message shows. */
const MAX_ITEMS = 4;

/**
 * A value as a message shows it: numbers as JavaScript prints them (never
 * more than ~24 characters), strings quoted, bigints with an `n`, arrays by
 * their first items; long renderings are cut, and nothing here throws (an
 * object without a prototype cannot be turned into a string).
 */
export function describe(value) {
  switch (typeof value) {
    case 'string':
      return cut(JSON.stringify(value), `… (${value.length} characters)`);
    case 'bigint':
      return cut(`${value}n`, `…n (${String(value).replace('-', '').length} digits)`);
    case 'function':
      return `function ${cut(value.name || '(anonymous)', '…')}`;
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return describeArray(value);
      return Object.prototype.toString.call(value);
    default:
      // number, boolean, undefined, symbol: String() prints each briefly.
      return String(value);
  }
}

function describeArray(items) {
  const shown = items.slice(0, MAX_ITEMS).map(describe);
  if (items.length > MAX_ITEMS) shown.push(`… (${items.length} items)`);
  return `[${shown.join(', ')}]`;
}

/** `text`, or its first characters followed by `more` when it is too long. */
function cut(text, more) {
  return text.length <= MAX_CHARS ? text : `${text.slice(0, MAX_CHARS - 8)}${more}`;
}

/** Rust's duration units (Duration's Debug, core's "N s") as powers of ten of a millisecond. */
const UNIT_EXPONENT = { s: 3, ms: 0, µs: -3, ns: -6 };

/**
 * Core's message fragments with every duration in milliseconds. Core writes
 * durations in seconds or Rust's Debug units ("60s", "250ms",
 * "18446744073.709551615 s"); this API speaks milliseconds only. Exact: the
 * decimal point moves, no float is involved.
 *
 * A stopgap: once core's ConfigError carries a machine-readable kind with
 * typed bounds, the glue renders from those instead of from text.
 */
export function inMilliseconds(text) {
  return text.replace(/\b(\d+)(?:\.(\d+))? ?(s|ms|µs|ns)(?![\wµ])/g, (_, whole, fraction = '', unit) => {
    return `${shiftDecimal(whole, fraction, UNIT_EXPONENT[unit])} ms`;
  });
}

/** The decimal `whole.fraction` times 10^exponent, as canonical decimal text. */
function shiftDecimal(whole, fraction, exponent) {
  let digits = whole + fraction;
  let point = whole.length + exponent;
  if (point <= 0) {
    digits = '0'.repeat(1 - point) + digits;
    point = 1;
  } else if (point > digits.length) {
    digits += '0'.repeat(point - digits.length);
  }
  const int = digits.slice(0, point).replace(/^0+(?=\d)/, '');
  const frac = digits.slice(point).replace(/0+$/, '');
  return frac === '' ? int : `${int}.${frac}`;
}
