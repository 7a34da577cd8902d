/**
 * The median of numbers, for the tests, the lab report and the benches (one definition; there were four).
 * An even count averages the two middle values. −Infinity is allowed (a silent audio level); NaN is not.
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of nothing');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
