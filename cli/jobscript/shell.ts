/** Characters a POSIX shell leaves alone in an unquoted word. */
const BARE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One shell word: bare when that is safe (keeps scripts readable), else single-quoted. */
export function shellWord(value: string): string {
  return BARE.test(value) ? value : singleQuote(value);
}

/** Single-quote a string for a POSIX shell, whatever it holds. */
export function singleQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
