/**
 * Finds where a JSON text first goes wrong. `JSON.parse` in Node 20 does not
 * always say where ("Unexpected token '}', ... is not valid JSON"), and a user
 * with a 2,000-line spec needs a line and column. This scanner only runs after
 * `JSON.parse` has failed, so it favours clarity over speed.
 */

export interface SyntaxProblem {
  offset: number;
  line: number;
  column: number;
}

/** The offset of the first syntax error in `text`, or null when it is valid JSON. */
export function findJsonSyntaxError(text: string): SyntaxProblem | null {
  let i = 0;
  // A text that stops short is located just after its last character, where
  // the user would type what is missing, not on the empty line after it.
  const fail = (): SyntaxProblem => locate(text, Math.min(i, text.replace(/[ \t\n\r]+$/, '').length));
  const skipSpace = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  // Expectation stack: what may come next inside each open container.
  const stack: Array<'object' | 'array'> = [];
  let expectValue = true;
  for (;;) {
    skipSpace();
    if (expectValue) {
      if (!scanValueStart()) return fail();
    } else {
      const container = stack.at(-1);
      if (container === undefined) {
        return i === text.length ? null : fail();
      }
      const c = text[i];
      if (c === ',') {
        i++;
        skipSpace();
        if (container === 'object' && !scanKey()) return fail();
        expectValue = true;
        continue;
      }
      if ((container === 'object' && c === '}') || (container === 'array' && c === ']')) {
        i++;
        stack.pop();
        continue;
      }
      return fail();
    }
  }

  function scanValueStart(): boolean {
    const c = text[i];
    if (c === '{') {
      i++;
      skipSpace();
      if (text[i] === '}') {
        i++;
        expectValue = false;
        return true;
      }
      stack.push('object');
      return scanKey();
    }
    if (c === '[') {
      i++;
      skipSpace();
      if (text[i] === ']') {
        i++;
        expectValue = false;
        return true;
      }
      stack.push('array');
      return true;
    }
    const literal = /^(?:"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (!literal) return false;
    i += literal[0].length;
    expectValue = false;
    return true;
  }

  function scanKey(): boolean {
    const key = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(text.slice(i));
    if (!key) return false;
    i += key[0].length;
    skipSpace();
    if (text[i] !== ':') return false;
    i++;
    expectValue = true;
    return true;
  }
}

function locate(text: string, offset: number): SyntaxProblem {
  const before = text.slice(0, offset).split('\n');
  return { offset, line: before.length, column: before.at(-1)!.length + 1 };
}

export interface SourceExcerpt {
  /** At most `width` characters of the problem's line, whole when it fits. */
  text: string;
  /** Where the caret goes under `text`, 0-based. */
  caret: number;
}

/**
 * The line of `text` holding `problem`, cut to `width` characters around the
 * column with `…` marking what was left out, so a minified 2 MB document
 * still gives a readable line. Tabs become spaces to keep the caret aligned.
 */
export function excerptAt(text: string, problem: SyntaxProblem, width = 72): SourceExcerpt {
  // A document that stops short is quoted at its last character, not at the empty line after it.
  const contentEnd = text.trimEnd().length;
  const offset = Math.min(problem.offset, contentEnd);
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  const endAt = text.indexOf('\n', offset);
  const line = text.slice(start, endAt === -1 ? text.length : endAt).replace(/\r$/, '').replace(/\t/g, ' ');
  const column = offset - start;
  if (line.length <= width) return { text: line, caret: column };
  const from = Math.max(0, Math.min(column - Math.floor(width / 2), line.length - width));
  const head = from > 0 ? '…' : '';
  const tail = from + width < line.length ? '…' : '';
  return { text: `${head}${line.slice(from, from + width)}${tail}`, caret: column - from + head.length };
}
