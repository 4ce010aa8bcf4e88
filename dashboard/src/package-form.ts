/*
 * The "register a firmware package" form: one build for one model, a DJI file
 * (URL, MD5, size, name, upgrade type) or a Huawei version package (its file
 * id on the platform and whether it is firmware or software). The
 * model box suggests the models the inventory knows (a datalist, so any key
 * can still be typed). The gateway validates; its errors appear beside the
 * fields. One check is done here, as in form.ts: the size must be a whole
 * number, or GraphQL would refuse the whole request before naming any field.
 */
import { byId, h, setText } from './dom';
import { FormErrors } from './form-errors';
import { request } from './http';
import { MODELS_QUERY, REGISTER_PACKAGE, type FirmwarePackage, type ModelsData } from './rollout-api';

const FIELDS = ['source', 'model', 'version', 'fileUrl', 'md5', 'fileSize', 'fileName', 'firmwareUpgradeType', 'fileId', 'kind'] as const;

/** Fills the model suggestions from the inventory's version distribution. */
export async function loadModelSuggestions(): Promise<void> {
  const list = byId('package-models');
  try {
    const { firmwareVersions } = await request<ModelsData>(MODELS_QUERY);
    const models = new Map<string, string | null>();
    for (const row of firmwareVersions) if (row.model !== null) models.set(row.model, row.modelName);
    list.replaceChildren(...[...models].sort().map(([model, name]) => h('option', { value: model }, name ? `${name} (${model})` : model)));
  } catch (error) {
    // Suggestions only: the box still takes any model key.
    console.warn('could not read the models for the package form', error);
  }
}

/** Wires the form; `onRegistered` gets the package the gateway stored. */
export function setupPackageForm(onRegistered: (pkg: FirmwarePackage) => void): void {
  const form = byId<HTMLFormElement>('package-form');
  const result = byId('package-form-result');
  const control = (field: string) => (FIELDS as readonly string[]).includes(field) ? byId(`package-${field}`) : null;
  const errors = new FormErrors(form, 'package-form', control);
  let busy = false;
  const value = (field: (typeof FIELDS)[number]) => byId<HTMLInputElement | HTMLSelectElement>(`package-${field}`).value.trim();
  // Each platform's own fields: the others are hidden, and not sent.
  const showPlatformFields = () => {
    const huawei = value('source') === 'HUAWEI';
    byId('package-huawei-fields').hidden = !huawei;
    byId('package-dji-fields').hidden = huawei;
  };
  byId('package-source').addEventListener('change', showPlatformFields);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (busy) return;
    errors.clear();
    let input: Record<string, unknown>;
    if (value('source') === 'HUAWEI') {
      input = { source: 'HUAWEI', model: value('model'), version: value('version'), fileId: value('fileId'), kind: value('kind') };
    } else {
      const size = value('fileSize');
      if (!/^\d+$/.test(size)) return errors.show(null, [{ field: 'fileSize', message: 'Enter the size as a whole number of bytes.' }]);
      input = {
        model: value('model'),
        version: value('version'),
        fileUrl: value('fileUrl'),
        md5: value('md5'),
        fileSize: Number(size),
        fileName: value('fileName'),
        firmwareUpgradeType: value('firmwareUpgradeType'),
      };
    }
    busy = true;
    setText(result, 'Registering the package…');
    request<{ registerFirmwarePackage: FirmwarePackage }>(REGISTER_PACKAGE, { input })
      .then(({ registerFirmwarePackage: pkg }) => {
        setText(result, `Package registered: ${pkg.modelName ?? pkg.model} ${pkg.version}.`);
        form.reset();
        showPlatformFields();
        onRegistered(pkg);
      })
      .catch((error: unknown) => {
        setText(result, '');
        errors.show(error);
      })
      .finally(() => {
        busy = false;
      });
  });
}
