import { djiProductName } from '../inventory/models';

/** The product name of a model key, where DJI's product table names it (the inventory's table). */
export function modelNameOf(model: string): string | null {
  return djiProductName(model);
}
