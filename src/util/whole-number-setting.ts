/**
 * A whole-number setting from a var: its value when it is a whole number from `min` to `max`, else
 * `fallback` (unset, empty, a typo or out of range: a bad number must not stop the node).
 */
export function wholeNumberSetting(raw: string | undefined, min: number, max: number, fallback: number): number {
  const n = Number(raw?.trim() || NaN);
  return Number.isInteger(n) && n >= min && n <= max ? n : fallback;
}
