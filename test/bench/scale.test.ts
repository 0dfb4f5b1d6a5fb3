import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isScaleSelection, parsePoints, scaleCurves } from '../../bench/lib/scale.js';
import { lineChart } from '../../bench/lib/svg-chart.js';

const def = (id: string) => {
  const d = scaleCurves.find((c) => c.id === id);
  assert.ok(d !== undefined);
  return d;
};

test('--only S and the curve ids select the scale bench; the other ids do not', () => {
  assert.equal(isScaleSelection(['S']), true);
  assert.equal(isScaleSelection(['SP', 'SG']), true);
  assert.equal(isScaleSelection(['P1']), false);
  assert.equal(isScaleSelection(['SP', 'P1']), false);
  assert.equal(isScaleSelection(undefined), false);
});

test('--points: defaults, one list for every curve, or per curve', () => {
  assert.deepEqual(parsePoints(undefined, def('SP')), [1, 8, 64, 1000, 10000]);
  assert.deepEqual(parsePoints('1,64', def('SC')), [1, 64]);
  assert.deepEqual(parsePoints('SP=1,64;SC=1,10;SS=1_000', def('SC')), [1, 10]);
  assert.deepEqual(parsePoints('SP=1,64;SC=1,10;SS=1_000', def('SS')), [1000]);
  assert.deepEqual(parsePoints('SP=1,64', def('SG')), []);
});

test('lineChart: every point inside the plot, a log-x axis, both series named', () => {
  const svg = lineChart({
    title: 't & <x>',
    xLabel: 'partitions',
    yLabel: 'rec/s',
    note: 'under load',
    series: [
      { name: 'Samsa', color: 'red', points: [1, 64, 10000].map((x) => ({ x, y: 6407 / x })) },
      {
        name: 'Kafka',
        color: 'blue',
        points: [
          { x: 1, y: 6407 },
          { x: 64, y: Number.NaN },
        ],
      },
    ],
  });
  assert.match(svg, /^<svg /);
  assert.match(svg, /t &amp; &lt;x&gt;/);
  assert.match(svg, />Samsa</);
  assert.match(svg, />Kafka</);
  assert.match(svg, /partitions \(log scale\)/);
  const cys = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => ({
    cx: Number(m[1]),
    cy: Number(m[2]),
  }));
  assert.equal(cys.length, 4); // the NaN point is left out
  for (const { cx, cy } of cys) {
    assert.ok(cy >= 40 && cy <= 330, `cy ${cy} outside the plot`);
    assert.ok(cx >= 70 && cx <= 620, `cx ${cx} outside the plot`);
  }
  // Log x: 64 sits at log(64)/log(10000) of the width.
  const x64 = cys.find(({ cy }) => cy > 300 && cy < 330);
  assert.ok(x64 !== undefined);
  assert.ok(Math.abs(x64.cx - (70 + (Math.log10(64) / 4) * 550)) < 1);
});
