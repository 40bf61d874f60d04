/**
 * A small YAML writer for the files the CLI generates (Prometheus rules and config,
 * Grafana provisioning): plain objects, arrays, strings, numbers and booleans. A
 * YAML library would be a runtime dependency of every app for one command; these
 * shapes need only block mappings and sequences. Strings are written plain when
 * that is unambiguous, as a literal block (`|-`) when they hold quotes or line
 * breaks (PromQL reads as written), else double-quoted (JSON's escapes are YAML's).
 * The tests parse every file back with a YAML library and compare.
 */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue | undefined };

const RESERVED = /^(true|false|yes|no|on|off|null|y|n|~)$/i;
const PLAIN = /^[\w/$(][\w./$()*+=:<>'!?%&;,-]*(?: [\w./$()*+=:<>'!?%&;,-]+)*$/;
/** What a YAML 1.1 or 1.2 reader could take for a number. */
const NUMERIC = /^[-+]?(\.?\d[\d_]*(\.\d*)?(e[-+]?\d+)?|0x[\da-f_]+|0o?[0-7_]+|\.(inf|nan))$/i;

function scalar(value: string | number | boolean | null): string {
  if (value === null) return 'null';
  if (!['string', 'number', 'boolean'].includes(typeof value)) throw new Error(`YAML: cannot write ${typeof value}`);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`YAML: ${value} is not a finite number`);
    return String(value);
  }
  const plain = PLAIN.test(value) && !RESERVED.test(value) && !NUMERIC.test(value) && !/:( |$)/.test(value);
  return plain ? value : JSON.stringify(value);
}

const isBlock = (value: string): boolean =>
  (value.includes('"') || value.includes('\n')) && !/^\s/.test(value) && !/[ \t]$/m.test(value);

function block(value: string, indent: string): string {
  return `|-\n${value
    .split('\n')
    .map((line) => (line ? `${indent}${line}` : ''))
    .join('\n')}`;
}

const key = (k: string): string => (/^[A-Za-z_][\w.-]*$/.test(k) && !RESERVED.test(k) ? k : JSON.stringify(k));

function lines(value: YamlValue, indent: string): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return value
      .map((item) => {
        if (item !== null && typeof item === 'object') {
          const body = lines(item, `${indent}  `);
          return `${indent}- ${body.slice(indent.length + 2)}`;
        }
        return `${indent}- ${inline(item, `${indent}  `)}`;
      })
      .join('\n');
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter((e): e is [string, YamlValue] => e[1] !== undefined);
    if (entries.length === 0) return '{}';
    return entries
      .map(([k, v]) => {
        const nested = v !== null && typeof v === 'object' && (Array.isArray(v) ? v.length : Object.keys(v).length);
        if (nested) return `${indent}${key(k)}:\n${lines(v, `${indent}  `)}`;
        return `${indent}${key(k)}: ${inline(v, `${indent}  `)}`;
      })
      .join('\n');
  }
  return `${indent}${inline(value, indent)}`;
}

function inline(value: YamlValue, indent: string): string {
  if (Array.isArray(value)) return '[]';
  if (value !== null && typeof value === 'object') return '{}';
  if (typeof value === 'string' && isBlock(value)) return block(value, indent);
  return scalar(value);
}

/** The document for `value`, ending in a newline; `comment` lines go first, as `# …`. */
export function toYaml(value: object, comment?: string): string {
  const head = comment
    ? `${comment
        .split('\n')
        .map((l) => `# ${l}`.trimEnd())
        .join('\n')}\n`
    : '';
  return `${head}${lines(value as YamlValue, '')}\n`;
}
