// A command's words as one string a POSIX shell would split back into the same words (ECS ExecuteCommand takes its
// command so; the run verb shows its command so). Pure.

/**
 * Each word as it is when it is plain, else single-quoted.
 * @param {string[]} words
 */
export function shellJoin(words) {
  return words.map((w) => (/^[A-Za-z0-9_\/.:=@%+,-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}
