/**
 * Reads Prometheus text exposition into samples so tests can assert on values.
 * Test-only; otelkit itself never writes or parses this format.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line.trim());
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) {
      labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** Samples named `name` whose labels include every pair in `match`. */
export function findSamples(text: string | Sample[], name: string, match: Record<string, string> = {}): Sample[] {
  const samples = typeof text === 'string' ? parsePrometheus(text) : text;
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

/** The single value of a sample; throws when absent or ambiguous so the test says why. */
export function sampleValue(text: string | Sample[], name: string, match: Record<string, string> = {}): number {
  const found = findSamples(text, name, match);
  if (found.length !== 1) {
    throw new Error(`expected one sample ${name}${JSON.stringify(match)}, found ${found.length}`);
  }
  return found[0]!.value;
}

/** HTTP GET of a scrape endpoint. */
export async function scrape(url: string, token?: string): Promise<string> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  if (res.status !== 200) throw new Error(`scrape ${url} answered ${res.status}`);
  return res.text();
}
