// What differs between two sets of settings, key by key: how a refused resume says why (naming
// the keys, not dumping every setting).

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * `key: A <before>, B <after>` for each differing value, nested keys as `training.epochs`
 * (arrays compare whole). `labels` name the two sides (default "recorded" and "now").
 */
export function describeDifferences(
  before: unknown,
  after: unknown,
  labels: { before: string; after: string } = { before: 'recorded', after: 'now' },
  prefix = '',
): string[] {
  if (!isObject(before) || !isObject(after)) {
    if (JSON.stringify(before) === JSON.stringify(after)) return [];
    const show = (value: unknown) => JSON.stringify(value) ?? 'unset';
    return [
      `${prefix || 'settings'}: ${show(before)} ${labels.before}, ${show(after)} ${labels.after}`,
    ];
  }
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys.flatMap((key) =>
    describeDifferences(before[key], after[key], labels, prefix ? `${prefix}.${key}` : key),
  );
}
