import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';

/** A configuration the Signer refuses to start with; the message names the key, never a value. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Where a key was set in the file (`line 3, column 9`) or by the environment (`from SIGNER__…`). */
export type Locate = (path: readonly string[]) => string | undefined;

/**
 * YAML parser codes in words. The parser's own messages may quote the text (an escape sequence,
 * a scalar, a tag), and its pretty errors print the surrounding lines — registry passwords
 * included — so only the code and the position are ever shown.
 */
const SYNTAX_PROBLEMS: Record<string, string> = {
  BAD_INDENT: 'bad indentation',
  TAB_AS_INDENT: 'a tab used for indentation',
  DUPLICATE_KEY: 'a key given twice in one mapping',
  MISSING_CHAR: 'a missing quote, bracket, comma or colon',
  UNEXPECTED_TOKEN: 'an unexpected character',
  BAD_DQ_ESCAPE: 'an invalid escape sequence in a double-quoted string',
  BAD_SCALAR_START: 'a plain value starting with a reserved character (quote it)',
  MULTIPLE_DOCS: 'more than one YAML document',
  MULTILINE_IMPLICIT_KEY: 'a key spanning several lines',
  BLOCK_AS_IMPLICIT_KEY: 'a block value used as a key',
  TAG_RESOLVE_FAILED: 'an unknown YAML tag',
};

const syntaxProblem = (code: string) => SYNTAX_PROBLEMS[code] ?? code.toLowerCase().replace(/_/g, ' ');

interface ParsedYaml {
  value: unknown;
  document: Document.Parsed;
  lineCounter: LineCounter;
}

/** Parses YAML; on an error, `where` (a file or an environment variable) with the first error's code and position only. */
function parseYamlSafely(text: string, where: (line: number, col: number) => string): ParsedYaml {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const [first] = document.errors;
  if (first) {
    const { line, col } = lineCounter.linePos(first.pos[0]);
    throw new ConfigError(`${where(line, col)}: YAML syntax error (${syntaxProblem(first.code)})`);
  }
  try {
    return { value: document.toJS({ maxAliasCount: 100 }), document, lineCounter };
  } catch {
    throw new ConfigError(`${where(1, 1)}: YAML aliases expand too far`);
  }
}

/** Parses one `SIGNER__…` value as YAML; a syntax error names the variable, never its value. */
export function parseEnvValue(name: string, value: string): unknown {
  return parseYamlSafely(value, (_line, col) => `${name} (column ${col})`).value;
}

/** The parsed configuration file and the position of every key in it. */
export interface ConfigSource {
  raw: unknown;
  locate: Locate;
}

/** Parses a configuration file's text; a syntax error names the file, line and column only. */
export function parseConfigSource(text: string, file: string): ConfigSource {
  const { value, document, lineCounter } = parseYamlSafely(
    text,
    (line, col) => `configuration ${file} line ${line}, column ${col}`,
  );
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `line ${line}, column ${col}`;
  };
  return {
    raw: value,
    // The deepest key on the path that the file has: the key itself, or the mapping a missing key belongs in.
    locate: (path) => {
      let node: unknown = document.contents;
      let found: string | undefined;
      for (const segment of path) {
        if (isMap(node)) {
          const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === segment);
          if (!pair || !isScalar(pair.key) || !pair.key.range) break;
          found = at(pair.key.range[0]);
          node = pair.value;
        } else if (isSeq(node) && /^\d+$/.test(segment)) {
          const item: unknown = node.items[Number(segment)];
          if (!isNode(item) || !item.range) break;
          found = at(item.range[0]);
          node = item;
        } else {
          break;
        }
      }
      return found;
    },
  };
}
