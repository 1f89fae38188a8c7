/**
 * @module
 * Where a JSON file breaks and why, in words a person uses: `line:column` (never a byte offset) and
 * a short reason for jsonc-parser's error code. Shared by berth's config file and the client config
 * files berth edits. Pure: the caller parses (and loads jsonc-parser when it wants).
 */

/** `line:column`, both from 1, of an offset in `text`. */
export function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before.at(-1)!.length + 1}`;
}

const SYNTAX_ERRORS: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'malformed number',
  PropertyNameExpected: 'expected a field name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: 'expected ":"',
  CommaExpected: 'expected "," between entries',
  CloseBraceExpected: 'expected "}"',
  CloseBracketExpected: 'expected "]"',
  EndOfFileExpected: 'unexpected text after the end',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'bad \\u escape',
  InvalidEscapeCharacter: 'bad escape character',
  InvalidCharacter: 'control character in a string',
};

/**
 * The first syntax error, from jsonc-parser's offset and code name (`printParseErrorCode`). A
 * trailing comma is reported at the comma: the parser stops at the brace after it.
 */
export function describeSyntaxError(text: string, offset: number, code: string): { position: string; problem: string } {
  const comma = /,\s*$/.exec(text.slice(0, offset));
  if (comma && (text[offset] === '}' || text[offset] === ']'))
    return { position: lineAndColumn(text, comma.index), problem: 'trailing comma' };
  return { position: lineAndColumn(text, offset), problem: SYNTAX_ERRORS[code] ?? code };
}
