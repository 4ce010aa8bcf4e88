/**
 * DJI model keys: `domain-type-sub_type`, the triple a dock reports for itself
 * and its sub-devices in `update_topo` (protocols.md §5.2), with the product
 * names DJI's Cloud API product support table gives them
 * (developer.dji.com/doc/cloud-api-tutorial/…/overview/product-support.html).
 * Domains: 0 aircraft, 1 payload, 2 remote controller, 3 dock.
 */

/** The model key of a DJI device, e.g. `3-1-0` for the DJI Dock. */
export function djiModelKey(domain: number, type: number, subType: number): string {
  return `${domain}-${type}-${subType}`;
}

/** Product names by model key, as DJI's product table names them. */
export const DJI_PRODUCT_NAMES: Readonly<Record<string, string>> = Object.freeze({
  // Docks (domain 3)
  '3-1-0': 'DJI Dock',
  '3-2-0': 'DJI Dock 2',
  '3-3-0': 'DJI Dock 3',
  // Aircraft (domain 0)
  '0-60-0': 'Matrice 300 RTK',
  '0-67-0': 'Matrice 30',
  '0-67-1': 'Matrice 30T',
  '0-77-0': 'Mavic 3E',
  '0-77-1': 'Mavic 3T',
  '0-77-2': 'Mavic 3M',
  '0-89-0': 'Matrice 350 RTK',
  '0-91-0': 'Matrice 3D',
  '0-91-1': 'Matrice 3TD',
  '0-99-0': 'DJI Matrice 4E',
  '0-99-1': 'DJI Matrice 4T',
  '0-100-0': 'DJI Matrice 4D',
  '0-100-1': 'DJI Matrice 4TD',
  // Remote controllers (domain 2)
  '2-56-0': 'DJI Smart Controller Enterprise',
  '2-119-0': 'DJI RC Plus',
  '2-144-0': 'DJI RC Pro Enterprise',
  '2-174-0': 'DJI RC Plus 2',
});

/** The product name of a model key, or null where DJI's table does not name it. */
export function djiProductName(modelKey: string | null): string | null {
  if (modelKey === null) return null;
  return Object.hasOwn(DJI_PRODUCT_NAMES, modelKey) ? DJI_PRODUCT_NAMES[modelKey] : null;
}
