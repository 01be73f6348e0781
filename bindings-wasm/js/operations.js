// Operations: the functions the library calls on the user's behalf (the
// `fn` of execute and the wrappers, a chain's fallbacks, withRetry's fetch).
// One that is not a function is a programming error, so it is a TypeError
// at once: never an attempt to retry, a failure to count or a slot to hold.
// (Callback *options* such as onRetry or clock are options: ConfigError.)

/** Throws unless `value` is a function: wrappers and constructors check at wrap time. */
export function requireOperation(where, parameter, value) {
  if (typeof value !== 'function') throw notCallable(where, parameter, value);
}

/** Throws unless `list` is an array of functions (a chain's fallbacks). */
export function requireOperations(where, parameter, list) {
  if (!Array.isArray(list)) {
    throw new TypeError(`${where}: ${parameter} must be an array of functions, got ${kindOf(list)}`);
  }
  list.forEach((value, i) => requireOperation(where, `${parameter}[${i}]`, value));
}

/**
 * The rejection of an `execute` whose operation is not a function: execute
 * always answers with a promise, and rejects before touching any state.
 */
export function rejectOperation(where, parameter, value) {
  return Promise.reject(notCallable(where, parameter, value));
}

function notCallable(where, parameter, value) {
  return new TypeError(`${where}: ${parameter} must be a function, got ${kindOf(value)}`);
}

/** The kind of a value, short whatever the value (never its text). */
function kindOf(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
