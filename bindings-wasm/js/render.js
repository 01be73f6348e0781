// How the glue shows a value in the messages of the errors it makes itself
// (an option core never sees: a filter, a callback, a signal). Every other
// message is core's, rendered by core for JavaScript.

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
