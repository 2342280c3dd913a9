/** Quotes a word for a POSIX shell only when it needs it: `web` stays `web`, `it's` becomes `'it'\''s'`. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./{}-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
