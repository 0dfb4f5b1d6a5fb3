// A strict parser of the Prometheus text exposition format (version 0.0.4), for tests that scrape /metrics.
// It rejects what Prometheus would: malformed names, labels or values, samples of a family split apart,
// TYPE after samples, duplicate series, histograms whose buckets are not cumulative or lack +Inf = _count.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(s: string, line: number): number {
  if (s === '+Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  // Prometheus parses floats with Go's ParseFloat, which takes NaN in any case (prom-client writes 'Nan').
  if (s.toLowerCase() === 'nan') return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`line ${line}: bad value "${s}"`);
  return Number(s);
}

/** The family a sample name belongs to (histogram/summary suffixes stripped when that family is declared). */
function familyOf(name: string, families: Map<string, Family>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const f = families.get(base);
      if (f !== undefined && (f.type === 'histogram' || f.type === 'summary')) return base;
    }
  }
  return name;
}

function parseLabels(s: string, line: number): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: label without =`);
    const name = s.slice(i, eq).trim();
    if (!LABEL.test(name)) throw new Error(`line ${line}: bad label name "${name}"`);
    if (name in out) throw new Error(`line ${line}: duplicate label ${name}`);
    if (s[eq + 1] !== '"') throw new Error(`line ${line}: label value must be quoted`);
    let j = eq + 2;
    let value = '';
    for (;;) {
      const c = s[j];
      if (c === undefined) throw new Error(`line ${line}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const n = s[j + 1];
        if (n === 'n') value += '\n';
        else if (n === '\\' || n === '"') value += n;
        else throw new Error(`line ${line}: bad escape \\${n}`);
        j += 2;
        continue;
      }
      value += c;
      j++;
    }
    out[name] = value;
    i = j + 1;
    if (s[i] === ',') i++;
    else if (i < s.length) throw new Error(`line ${line}: expected , between labels`);
  }
  return out;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const seen = new Set<string>();
  let current: string | null = null;
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') throw new Error('exposition must end with a newline');
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
      if (m === null) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string | undefined];
      if (!NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
      if (closed.has(name)) throw new Error(`line ${line}: ${kind} for ${name} after its samples`);
      const f = families.get(name) ?? { name, type: 'untyped', help: '', samples: [] };
      if (kind === 'TYPE') {
        if (!TYPES.has(rest ?? '')) throw new Error(`line ${line}: bad type ${rest}`);
        if (f.samples.length > 0) throw new Error(`line ${line}: TYPE after samples of ${name}`);
        f.type = rest as string;
      } else {
        f.help = rest ?? '';
      }
      families.set(name, f);
      if (current !== null && current !== name) closed.add(current);
      current = name;
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(raw);
    if (m === null) throw new Error(`line ${line}: not a sample: ${raw}`);
    const name = m[1] as string;
    const labels = m[3] !== undefined ? parseLabels(m[3], line) : {};
    const value = parseValue(m[4] as string, line);
    const fam = familyOf(name, families);
    if (closed.has(fam)) throw new Error(`line ${line}: samples of ${fam} are not contiguous`);
    if (current !== null && current !== fam) closed.add(current);
    current = fam;
    const f = families.get(fam) ?? { name: fam, type: 'untyped', help: '', samples: [] };
    families.set(fam, f);
    const id = `${name}{${Object.entries(labels)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}}`;
    if (seen.has(id)) throw new Error(`line ${line}: duplicate series ${id}`);
    seen.add(id);
    if (f.type === 'counter' && (value < 0 || Number.isNaN(value)))
      throw new Error(`line ${line}: counter ${name} is ${value}`);
    f.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const k = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(k) ?? { buckets: [] };
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}: bucket without le`);
      g.buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name === `${f.name}_count`) g.count = s.value;
    else if (s.name === `${f.name}_sum`) g.sum = s.value;
    else throw new Error(`${f.name}: unexpected sample ${s.name}`);
    groups.set(k, g);
  }
  for (const [k, g] of groups) {
    const b = g.buckets.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < b.length; i++) {
      if ((b[i] as [number, number])[1] < (b[i - 1] as [number, number])[1])
        throw new Error(`${f.name}${k}: buckets not cumulative`);
    }
    const inf = b[b.length - 1];
    if (inf === undefined || inf[0] !== Number.POSITIVE_INFINITY)
      throw new Error(`${f.name}${k}: no +Inf bucket`);
    if (g.count !== inf[1]) throw new Error(`${f.name}${k}: +Inf bucket ${inf[1]} != _count ${g.count}`);
    if (g.sum === undefined) throw new Error(`${f.name}${k}: no _sum`);
  }
}

/** The value of the one sample of `family` whose labels include `labels`; throws when absent or ambiguous. */
export function sampleValue(
  families: Map<string, Family>,
  family: string,
  labels: Record<string, string> = {},
  name = family,
): number {
  const f = families.get(family);
  if (f === undefined) throw new Error(`no metric family ${family}`);
  const hits = f.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (hits.length !== 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return (hits[0] as Sample).value;
}
