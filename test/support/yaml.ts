/**
 * A strict parser for the block-style YAML subset that docker-compose.yml and `docker-compose config` use:
 * nested mappings and sequences by indentation (a sequence may sit at its key's own indentation), plain,
 * 'single' and "double" quoted scalars, `#` comments, and one-line flow collections of scalars (`[a, "b"]`,
 * `{}`). Plain scalars follow YAML 1.2's core schema (null, true/false, numbers, else a string).
 *
 * Anything else (anchors, aliases, tags, block scalars, multi-line scalars, several documents, nested flow
 * collections) is refused with the line number, never guessed at. Stand-in until a YAML library is a
 * devDependency.
 */
export type YamlValue = null | boolean | number | string | YamlValue[] | { [key: string]: YamlValue };

export class YamlSubsetError extends Error {
  constructor(message: string, line: number) {
    super(`YAML line ${line}: ${message}`);
  }
}

interface Line {
  /** 1-based, for error messages. */
  readonly number: number;
  readonly indent: number;
  /** The content after the indentation, comment removed, trailing space trimmed. */
  readonly text: string;
}

/** Parses one YAML document of the subset described above. */
export function parseYaml(source: string): YamlValue {
  const lines: Line[] = [];
  source.split(/\r?\n/).forEach((raw, index) => {
    const number = index + 1;
    const indent = raw.length - raw.replace(/^ +/, '').length;
    if (raw[indent] === '\t') throw new YamlSubsetError('tabs are not allowed for indentation', number);
    const text = stripComment(raw.slice(indent), number).trimEnd();
    if (text === '') return;
    if (text === '---' && lines.length === 0) return;
    if (text === '---' || text === '...') throw new YamlSubsetError('only one document is supported', number);
    lines.push({ number, indent, text });
  });
  if (lines.length === 0) return null;
  const parser = new BlockParser(lines);
  const value = parser.block(lines[0]!.indent);
  parser.expectEnd();
  return value;
}

class BlockParser {
  private index = 0;

  constructor(private readonly lines: Line[]) {}

  expectEnd(): void {
    const line = this.lines[this.index];
    if (line !== undefined) throw new YamlSubsetError('unexpected indentation', line.number);
  }

  /** The mapping or sequence whose entries start at column `indent`. */
  block(indent: number): YamlValue {
    const first = this.lines[this.index]!;
    return isSequenceEntry(first.text) ? this.sequence(indent) : this.mapping(indent);
  }

  private sequence(indent: number): YamlValue[] {
    const items: YamlValue[] = [];
    for (let line = this.peek(); line?.indent === indent && isSequenceEntry(line.text); line = this.peek()) {
      const rest = line.text.slice(1).replace(/^ +/, '');
      if (rest === '') {
        this.index += 1;
        items.push(this.nested(indent, true));
      } else if (splitKey(rest, line.number) !== undefined || isSequenceEntry(rest)) {
        // `- key: value` or `- - x`: a block that starts on the dash's line, at the column after it.
        const column = indent + (line.text.length - rest.length);
        this.lines[this.index] = { number: line.number, indent: column, text: rest };
        items.push(this.block(column));
      } else {
        this.index += 1;
        items.push(scalar(rest, line.number));
        this.noContinuation(indent, line);
      }
    }
    return items;
  }

  private mapping(indent: number): { [key: string]: YamlValue } {
    const entries: { [key: string]: YamlValue } = {};
    for (let line = this.peek(); line?.indent === indent && !isSequenceEntry(line.text); line = this.peek()) {
      const split = splitKey(line.text, line.number);
      if (split === undefined) throw new YamlSubsetError(`expected "key: value", got ${JSON.stringify(line.text)}`, line.number);
      const [key, rest] = split;
      if (Object.hasOwn(entries, key) || key === '__proto__') throw new YamlSubsetError(`duplicate or reserved key ${JSON.stringify(key)}`, line.number);
      this.index += 1;
      if (rest === '') {
        entries[key] = this.nested(indent, false);
      } else {
        entries[key] = scalar(rest, line.number);
        this.noContinuation(indent, line);
      }
    }
    return entries;
  }

  /** The block under an entry at `indent` (deeper, or a sequence at the same column under a mapping key); null when none. */
  private nested(indent: number, inSequence: boolean): YamlValue {
    const next = this.peek();
    if (next === undefined) return null;
    if (next.indent > indent) return this.block(next.indent);
    if (!inSequence && next.indent === indent && isSequenceEntry(next.text)) return this.sequence(indent);
    return null;
  }

  /** A scalar value ends its entry: a deeper line after it would be a multi-line scalar, which is refused. */
  private noContinuation(indent: number, line: Line): void {
    const next = this.peek();
    if (next !== undefined && next.indent > indent) throw new YamlSubsetError(`multi-line values are not supported (after line ${line.number})`, next.number);
  }

  private peek(): Line | undefined {
    return this.lines[this.index];
  }
}

function isSequenceEntry(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

/** `key: rest` split at the first `: ` (or a final `:`) outside quotes; undefined when the text is no mapping entry. */
function splitKey(text: string, line: number): [string, string] | undefined {
  if (/^[?&*!|>%@`]/.test(text)) throw new YamlSubsetError(`unsupported syntax ${JSON.stringify(text[0])}`, line);
  let end: number;
  let key: string;
  if (text.startsWith('"') || text.startsWith("'")) {
    end = closingQuote(text, 0, line) + 1;
    key = String(quoted(text.slice(0, end), line));
    if (!text.startsWith(':', end)) return undefined;
  } else {
    const match = /:(?: |$)/.exec(text);
    if (match === null || text.startsWith('[') || text.startsWith('{')) return undefined;
    end = match.index;
    key = text.slice(0, end);
  }
  const rest = text.slice(end + 1);
  if (rest !== '' && !rest.startsWith(' ')) return undefined;
  return [key, rest.trim()];
}

/** One scalar or one-line flow collection of scalars. */
function scalar(text: string, line: number): YamlValue {
  if (/^[&*!|>%@`]/.test(text)) throw new YamlSubsetError(`unsupported syntax ${JSON.stringify(text[0])} (anchors, aliases, tags, block scalars)`, line);
  if (text.startsWith('"') || text.startsWith("'")) {
    if (closingQuote(text, 0, line) !== text.length - 1) throw new YamlSubsetError(`text after a quoted value: ${text}`, line);
    return quoted(text, line);
  }
  if (text.startsWith('[') || text.startsWith('{')) return flow(text, line);
  return plain(text);
}

function plain(text: string): YamlValue {
  if (/^(~|null|Null|NULL)$/.test(text)) return null;
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(text)) return Number(text);
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
  return text;
}

/** `[a, "b", 3]` or `{}` / `{ a: 1 }` with scalar items only. */
function flow(text: string, line: number): YamlValue {
  const close = text[0] === '[' ? ']' : '}';
  if (!text.endsWith(close)) throw new YamlSubsetError(`unterminated flow collection: ${text}`, line);
  const items = splitFlow(text.slice(1, -1), line);
  if (close === ']') return items.map((item) => scalar(item, line));
  const entries: { [key: string]: YamlValue } = {};
  for (const item of items) {
    const split = splitKey(item, line);
    if (split === undefined) throw new YamlSubsetError(`expected "key: value" in ${text}`, line);
    entries[split[0]] = split[1] === '' ? null : scalar(split[1], line);
  }
  return entries;
}

/** The comma-separated items of a flow collection's body (quotes respected; nested collections refused). */
function splitFlow(body: string, line: number): string[] {
  const items: string[] = [];
  let start = 0;
  for (let i = 0; i < body.length; i += 1) {
    const char = body[i];
    if (char === '"' || char === "'") i = closingQuote(body, i, line);
    else if (char === '[' || char === '{') throw new YamlSubsetError('nested flow collections are not supported', line);
    else if (char === ',') {
      items.push(body.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = body.slice(start).trim();
  if (last !== '') items.push(last);
  if (items.some((item) => item === '')) throw new YamlSubsetError('empty flow collection item', line);
  return items;
}

/** The index of the quote that closes the one at `open`. */
function closingQuote(text: string, open: number, line: number): number {
  const quote = text[open];
  for (let i = open + 1; i < text.length; i += 1) {
    if (quote === '"' && text[i] === '\\') i += 1;
    else if (text[i] === quote) {
      if (quote === "'" && text[i + 1] === "'") i += 1;
      else return i;
    }
  }
  throw new YamlSubsetError(`unterminated quoted value: ${text}`, line);
}

const ESCAPES: Record<string, string> = { '0': '\0', a: '\x07', b: '\b', t: '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b', ' ': ' ', '"': '"', '/': '/', '\\': '\\' };

function quoted(text: string, line: number): string {
  const body = text.slice(1, -1);
  if (text[0] === "'") return body.replace(/''/g, "'");
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (_match, code: string) => {
    if (code.length > 1) return String.fromCodePoint(parseInt(code.slice(1), 16));
    const escaped = ESCAPES[code];
    if (escaped === undefined) throw new YamlSubsetError(`unknown escape \\${code}`, line);
    return escaped;
  });
}

/** The line without its `#` comment (a `#` at the start or after white space, outside quotes). */
function stripComment(text: string, line: number): string {
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if ((char === '"' || char === "'") && (i === 0 || /[\s:[{,-]/.test(text[i - 1]!))) i = closingQuote(text, i, line);
    else if (char === '#' && (i === 0 || /\s/.test(text[i - 1]!))) return text.slice(0, i);
  }
  return text;
}
