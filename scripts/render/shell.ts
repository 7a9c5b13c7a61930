/**
 * The one quoting helper for everything we interpolate into shell. A POSIX single-quoted
 * word stays data whatever it holds: `$(…)`, backticks, quotes, newlines, leading dashes.
 */
export function shellQuote(value: string): string {
  if (value.includes("\0")) throw new Error("a shell word cannot contain a NUL byte");
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `NAME='value'`, for files that bash sources. */
export function shellAssignment(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a shell variable name: ${name}`);
  return `${name}=${shellQuote(value)}`;
}

/** The shell variable fragment for a config name (names are [a-z0-9-], never '_', so this is one-to-one). */
export function shellIdent(name: string): string {
  return name.replace(/-/g, "_");
}
