import { median, medianOf } from '../bench/lib/median';

test('median of odd and even counts, NaN left out', () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(median([Number.NaN, 5, 1])).toBe(3);
  expect(median([Number.NaN])).toBeNaN();
});

test('medianOf takes each number of the runs separately and the rest from the first run', () => {
  const runs = [
    { rate: 100, latency: { p50: 5, p99: 30 }, label: 'a', extra: null, series: [1, 2] },
    { rate: 300, latency: { p50: 7, p99: 10 }, label: 'b', extra: null, series: [3, 4] },
    { rate: 200, latency: { p50: 6, p99: 20 }, label: 'c', extra: null, series: [5, 6] },
  ];
  // p50 and p99 come from different runs: each figure is its own median.
  expect(medianOf(runs)).toEqual({ rate: 200, latency: { p50: 6, p99: 20 }, label: 'a', extra: null, series: [3, 4] });
  expect(medianOf([{ n: 1 }])).toEqual({ n: 1 });
  expect(() => medianOf([])).toThrow(/no runs/);
});
