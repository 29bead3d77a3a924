/**
 * A small, strict parser of the Prometheus text exposition format (version 0.0.4), for tests that scrape /metrics.
 * Strict on purpose: whatever a real Prometheus would reject (or silently misread), this throws for.
 *   # HELP <name> <text>          text escapes: \\ and \n
 *   # TYPE <name> <counter|gauge|histogram|summary|untyped>   at most once, before the family's samples
 *   <name>[{<label>="<value>",...}] <value> [<timestamp ms>]
 *                                 label value escapes: \\ \" \n; value: a float, NaN, +Inf or -Inf
 * Also checked: the text ends with a newline; a series (name + label set) appears once; a family's samples are
 * contiguous; histogram buckets carry `le`, are cumulative, end at +Inf, and +Inf equals _count.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

export class PrometheusTextError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'PrometheusTextError';
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  if (text.length > 0 && !text.endsWith('\n')) throw new PrometheusTextError(0, 'the exposition does not end with a newline');
  const families = new Map<string, FamilyBuilder>();
  const seriesSeen = new Set<string>();
  const finished = new Set<string>(); // families whose samples ended (another family's began)
  let current: string | undefined;
  const lines = text.split('\n');
  lines.pop(); // the empty string after the final newline

  const familyOf = (sampleName: string): string => {
    for (const suffix of ['_bucket', '_sum', '_count']) {
      if (sampleName.endsWith(suffix)) {
        const base = sampleName.slice(0, -suffix.length);
        const f = families.get(base);
        if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return base;
      }
    }
    return sampleName;
  };

  lines.forEach((line, index) => {
    const n = index + 1;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) return; // an ordinary comment
      const [, keyword, name, rest = ''] = m;
      if (!METRIC_NAME.test(name!)) throw new PrometheusTextError(n, `bad metric name ${JSON.stringify(name)}`);
      let family = families.get(name!);
      if (keyword === 'TYPE') {
        const type = rest.trim() as MetricType;
        if (!TYPES.has(type)) throw new PrometheusTextError(n, `unknown type ${JSON.stringify(rest)}`);
        if (family && family.samples.length > 0) throw new PrometheusTextError(n, `TYPE of ${name} after its samples`);
        if (family?.typeSet) throw new PrometheusTextError(n, `second TYPE for ${name}`);
        if (!family) families.set(name!, (family = newFamily(name!)));
        family.type = type;
        family.typeSet = true;
      } else {
        if (family?.help !== undefined) throw new PrometheusTextError(n, `second HELP for ${name}`);
        if (!family) families.set(name!, (family = newFamily(name!)));
        family.help = unescapeHelp(rest, n);
      }
      return;
    }
    const sample = parseSampleLine(line, n);
    const familyName = familyOf(sample.name);
    if (current !== familyName) {
      if (finished.has(familyName)) throw new PrometheusTextError(n, `samples of ${familyName} are not contiguous`);
      if (current !== undefined) finished.add(current);
      current = familyName;
    }
    let family = families.get(familyName);
    if (!family) families.set(familyName, (family = newFamily(familyName)));
    if (family.type === 'histogram' && sample.name === `${familyName}_bucket` && sample.labels.le === undefined) {
      throw new PrometheusTextError(n, `histogram bucket without le: ${line}`);
    }
    if (family.type !== 'histogram' && family.type !== 'summary' && sample.name !== familyName) {
      throw new PrometheusTextError(n, `sample ${sample.name} does not belong to family ${familyName}`);
    }
    const key = seriesKey(sample);
    if (seriesSeen.has(key)) throw new PrometheusTextError(n, `duplicate series ${key}`);
    seriesSeen.add(key);
    family.samples.push(sample);
  });

  for (const family of families.values()) {
    delete family.typeSet;
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families as Map<string, MetricFamily>;
}

/** The value of one series, or undefined. Labels must match exactly (all of them). */
export function sampleValue(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name === name && sameLabels(s.labels, labels)) return s.value;
    }
  }
  return undefined;
}

interface FamilyBuilder extends MetricFamily {
  typeSet?: boolean;
}

function newFamily(name: string): FamilyBuilder {
  return { name, type: 'untyped', samples: [] };
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
}

function seriesKey(s: Sample): string {
  return `${s.name}{${Object.keys(s.labels).sort().map((k) => `${k}=${JSON.stringify(s.labels[k])}`).join(',')}}`;
}

function unescapeHelp(text: string, n: number): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    throw new PrometheusTextError(n, `bad escape \\${c} in HELP`);
  });
}

function parseSampleLine(line: string, n: number): Sample {
  let i = 0;
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) throw new PrometheusTextError(n, `no metric name: ${JSON.stringify(line)}`);
  const name = nameMatch[0];
  i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      if (line[i] === '}') {
        i++;
        break;
      }
      const labelMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
      if (!labelMatch || !LABEL_NAME.test(labelMatch[0])) throw new PrometheusTextError(n, `bad label name at column ${i + 1}`);
      const label = labelMatch[0];
      i += label.length;
      if (line[i] !== '=' || line[i + 1] !== '"') throw new PrometheusTextError(n, `expected ="..." after label ${label}`);
      i += 2;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new PrometheusTextError(n, `unterminated value of label ${label}`);
        i++;
        if (c === '"') break;
        if (c === '\\') {
          const e = line[i++];
          if (e === '\\') value += '\\';
          else if (e === '"') value += '"';
          else if (e === 'n') value += '\n';
          else throw new PrometheusTextError(n, `bad escape \\${e ?? ''} in label ${label}`);
        } else {
          value += c;
        }
      }
      if (Object.hasOwn(labels, label)) throw new PrometheusTextError(n, `label ${label} twice`);
      labels[label] = value;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new PrometheusTextError(n, `expected , or } after label ${label}`);
    }
  }
  const rest = line.slice(i);
  const m = /^[ \t]+(\S+)(?:[ \t]+(-?\d+))?[ \t]*$/.exec(rest);
  if (!m) throw new PrometheusTextError(n, `expected a value after ${name}: ${JSON.stringify(rest)}`);
  const value = parseValue(m[1]!, n);
  const sample: Sample = { name, labels, value };
  if (m[2] !== undefined) sample.timestamp = Number(m[2]);
  return sample;
}

function parseValue(text: string, n: number): number {
  if (text === 'NaN') return Number.NaN;
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new PrometheusTextError(n, `bad value ${JSON.stringify(text)}`);
  return Number(text);
}

function checkHistogram(family: MetricFamily): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; count?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = seriesKey({ name: '', labels: rest, value: 0 });
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { buckets: [] }));
    if (s.name === `${family.name}_bucket`) g.buckets.push([parseValue(le!, 0), s.value]);
    else if (s.name === `${family.name}_count`) g.count = s.value;
  }
  for (const [key, g] of groups) {
    const where = `${family.name}${key}`;
    if (g.buckets.length === 0) throw new PrometheusTextError(0, `histogram ${where} has no buckets`);
    for (let k = 1; k < g.buckets.length; k++) {
      if (!(g.buckets[k]![0] > g.buckets[k - 1]![0])) throw new PrometheusTextError(0, `histogram ${where}: le not increasing`);
      if (g.buckets[k]![1] < g.buckets[k - 1]![1]) throw new PrometheusTextError(0, `histogram ${where}: buckets not cumulative`);
    }
    const last = g.buckets[g.buckets.length - 1]!;
    if (last[0] !== Number.POSITIVE_INFINITY) throw new PrometheusTextError(0, `histogram ${where} has no +Inf bucket`);
    if (g.count === undefined || g.count !== last[1]) throw new PrometheusTextError(0, `histogram ${where}: _count differs from the +Inf bucket`);
  }
}
