// Splitting a command line into words, the way every entry point (socket, -O, files) does it.
//
// Pen executes only the text before the first '\r' or '\n' and splits it on spaces (strtok, so
// runs of spaces count as one). pen also treats tabs as separators: Pen would have glued them
// into the words, which only ever produced "unknown command" errors.

/** The part of `text` before its first '\r' or '\n'. */
export function firstLine(text: string): string {
  const end = text.search(/[\r\n]/);
  return end < 0 ? text : text.slice(0, end);
}

/** The words of one command line; [] for a blank line. */
export function tokenize(line: string): string[] {
  return firstLine(line).split(/[ \t]+/).filter((w) => w !== '');
}
