/**
 * A result read through GraphQL with its nested connections (`subTasks`,
 * `events`, selected as `{ nodes { … } }`) replaced by their node arrays, so
 * assertions read like the objects they describe.
 */
export function flat<T = any>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => flat(v)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const connection = (key === 'subTasks' || key === 'events') && v !== null && typeof v === 'object' && Array.isArray((v as { nodes?: unknown }).nodes);
    out[key] = flat(connection ? (v as { nodes: unknown[] }).nodes : v);
  }
  return out as T;
}

/** The row number inside a global id of an event (`ProgressEvent:12` → 12), to compare recording order. */
export function rowNumberOf(globalId: string): number {
  const [, local] = Buffer.from(globalId, 'base64url').toString('utf8').split(':');
  return Number(local);
}

/** The row id inside a global id (`UpgradeTask:<uuid>` → the uuid), to look rows up in the database. */
export function rowIdOf(globalId: string): string {
  const text = Buffer.from(globalId, 'base64url').toString('utf8');
  return text.slice(text.indexOf(':') + 1);
}
