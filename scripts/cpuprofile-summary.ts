// Summarizes a `node --cpu-prof` profile (.cpuprofile JSON): the top functions by self time and by subtree
// (inclusive) time, in % of all samples and of busy (non-idle) samples.
// Usage: node --import tsx scripts/cpuprofile-summary.ts FILE.cpuprofile [--top N] [--markdown]

import * as fs from 'node:fs';
import * as path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
if (file === undefined) {
  console.error('usage: cpuprofile-summary.ts FILE.cpuprofile [--top N] [--markdown]');
  process.exit(2);
}
const topIdx = args.indexOf('--top');
const top = topIdx >= 0 ? Number(args[topIdx + 1]) : 25;
const markdown = args.includes('--markdown');
// --skip NAME (repeatable): drop samples whose stack holds a function of that name (e.g. doStop: the shutdown).
const skip = new Set(args.flatMap((a, i) => (args[i - 1] === '--skip' ? [a] : [])));
// --tree NAME: also print the merged call tree under the functions of that name, to --depth levels.
const treeIdx = args.indexOf('--tree');
const treeRoot = treeIdx >= 0 ? args[treeIdx + 1] : undefined;
const depthIdx = args.indexOf('--depth');
const maxDepth = depthIdx >= 0 ? Number(args[depthIdx + 1]) : 6;

const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const byId = new Map<number, ProfileNode>();
const parent = new Map<number, number>();
for (const n of profile.nodes) byId.set(n.id, n);
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Time per sample: the delta to the next sample (the last one gets the mean).
const selfUs = new Map<number, number>();
const { samples, timeDeltas } = profile;
const total = profile.endTime - profile.startTime;
for (let i = 0; i < samples.length; i++) {
  const dt = i + 1 < timeDeltas.length ? timeDeltas[i + 1] : total / samples.length;
  const id = samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
}

const label = (n: ProfileNode): string => {
  const f = n.callFrame;
  const name = f.functionName === '' ? '(anonymous)' : f.functionName;
  if (f.url === '') return name;
  const u = f.url.replace(/^file:\/\//, '');
  const short = u.includes('/dist/') ? u.slice(u.indexOf('/dist/') + 6) : path.basename(u);
  return `${name} ${short}:${f.lineNumber + 1}`;
};

const stackNames = (id: number): string[] => {
  const out: string[] = [];
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const c = byId.get(cur);
    if (c === undefined) break;
    out.push(c.callFrame.functionName);
  }
  return out;
};

const selfBy = new Map<string, number>();
const inclBy = new Map<string, number>();
let all = 0;
let idle = 0;
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  if (n === undefined) continue;
  if (skip.size > 0 && stackNames(id).some((f) => skip.has(f))) continue;
  all += us;
  if (n.callFrame.functionName === '(idle)') idle += us;
  const l = label(n);
  selfBy.set(l, (selfBy.get(l) ?? 0) + us);
  // Inclusive: count each distinct label once per stack.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const c = byId.get(cur);
    if (c === undefined) break;
    const cl = label(c);
    if (seen.has(cl)) continue;
    seen.add(cl);
    inclBy.set(cl, (inclBy.get(cl) ?? 0) + us);
  }
}
const busy = all - idle;
const pct = (us: number, of: number): string => `${((100 * us) / of).toFixed(1)}%`;
const busyPct = (l: string, us: number): string => (l === '(idle)' ? '-' : pct(us, busy));
const rows = (m: Map<string, number>): [string, number][] =>
  [...m.entries()]
    .filter(([l]) => l !== '(root)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top);

const print = (title: string, m: Map<string, number>): void => {
  if (markdown) {
    console.log(`\n${title}\n\n| function | ms | % of all | % of busy |\n|---|---:|---:|---:|`);
    for (const [l, us] of rows(m))
      console.log(`| \`${l}\` | ${(us / 1000).toFixed(0)} | ${pct(us, all)} | ${busyPct(l, us)} |`);
  } else {
    console.log(`\n${title}`);
    for (const [l, us] of rows(m))
      console.log(
        `${(us / 1000).toFixed(0).padStart(8)} ms ${pct(us, all).padStart(6)} ${busyPct(l, us).padStart(6)}  ${l}`,
      );
  }
};
console.log(
  `${path.basename(file)}: ${(all / 1000).toFixed(0)} ms sampled, idle ${pct(idle, all)}, busy ${(busy / 1000).toFixed(0)} ms`,
);
print('By self time (ms, % of all, % of busy):', selfBy);
print('By subtree (inclusive) time:', inclBy);

if (treeRoot !== undefined) {
  // Inclusive time per node id, then merged by label below every node named treeRoot (outermost only).
  const incl = new Map<number, number>();
  for (const [id, us] of selfUs) {
    if (skip.size > 0 && stackNames(id).some((f) => skip.has(f))) continue;
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur))
      incl.set(cur, (incl.get(cur) ?? 0) + us);
  }
  interface Merged {
    us: number;
    kids: Map<string, Merged>;
  }
  const rootM: Merged = { us: 0, kids: new Map() };
  const add = (into: Merged, id: number, depth: number): void => {
    into.us += incl.get(id) ?? 0;
    if (depth >= maxDepth) return;
    for (const c of byId.get(id)?.children ?? []) {
      const cn = byId.get(c);
      if (cn === undefined || (incl.get(c) ?? 0) === 0) continue;
      const l = label(cn);
      let m = into.kids.get(l);
      if (m === undefined) {
        m = { us: 0, kids: new Map() };
        into.kids.set(l, m);
      }
      add(m, c, depth + 1);
    }
  };
  const visit = (id: number, inside: boolean): void => {
    const n = byId.get(id);
    if (n === undefined) return;
    const isRoot = n.callFrame.functionName === treeRoot;
    if (isRoot && !inside) add(rootM, id, 0);
    for (const c of n.children ?? []) visit(c, inside || isRoot);
  };
  visit(profile.nodes[0].id, false);
  console.log(`\nTree under ${treeRoot} (ms, % of busy):`);
  const show = (m: Merged, name: string, indent: string): void => {
    if (m.us < busy * 0.003) return;
    console.log(`${(m.us / 1000).toFixed(0).padStart(8)} ms ${pct(m.us, busy).padStart(6)} ${indent}${name}`);
    for (const [l, k] of [...m.kids.entries()].sort((a, b) => b[1].us - a[1].us)) show(k, l, `${indent}  `);
  };
  show(rootM, treeRoot, '');
}
