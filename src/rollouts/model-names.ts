/**
 * The product name of a model key, where known. The inventory owns DJI's
 * product table; until it is wired in here, no name is known.
 */
export function modelNameOf(_model: string): string | null {
  return null;
}
