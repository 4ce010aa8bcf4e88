/*
 * The "start a Huawei upgrade" form: kind, the platform's file id and the
 * device ids (one per line or comma-separated). As with the DJI form, the
 * gateway is the one validator: its field errors appear beside the fields,
 * and a platform refusal (UPSTREAM_ERROR) is shown with the platform's code.
 */
import { byId, setText } from './dom';
import { FormErrors } from './form-errors';
import type { TaskWithSubTasks } from './graphql';
import { request } from './http';

const CREATE_HUAWEI_UPGRADE = /* GraphQL */ `
  mutation DashboardCreateHuaweiUpgrade($input: CreateHuaweiUpgradeInput!) {
    createHuaweiUpgrade(input: $input) {
      id source kind externalId gatewaySn status progress createdAt updatedAt
      subTasks(first: 20) {
        totalCount
        nodes {
          id deviceId status vendorStatus step percent
          sourceVersion currentVersion targetVersion statusDesc errorCode updatedAt
        }
      }
    }
  }`;

/** Form control names by the server's field path (`deviceIds.2` belongs to the device box). */
function controlName(field: string): string {
  if (field.startsWith('deviceIds')) return 'huawei-deviceIds';
  if (field.startsWith('policy')) return 'huawei-executeType';
  return `huawei-${field}`;
}

/** Wires the form; `onCreated` gets the task the gateway created. */
export function setupHuaweiUpgradeForm(onCreated: (task: TaskWithSubTasks) => void): void {
  const form = byId<HTMLFormElement>('huawei-form');
  const result = byId('huawei-form-result');
  let busy = false;
  const control = (name: string) => form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement | null;
  const errors = new FormErrors(form, 'huawei-form', (field) => control(controlName(field)));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (busy) return;
    errors.clear();
    const value = (name: string) => control(name)?.value.trim() ?? '';
    const deviceIds = value('huawei-deviceIds')
      .split(/[\s,]+/)
      .filter((id) => id !== '');
    const input = {
      kind: value('huawei-kind'),
      fileId: value('huawei-fileId'),
      deviceIds,
      policy: { executeType: value('huawei-executeType') },
    };
    busy = true;
    setText(result, 'Starting the upgrade on the Huawei platform…');
    request<{ createHuaweiUpgrade: TaskWithSubTasks }>(CREATE_HUAWEI_UPGRADE, { input })
      .then(({ createHuaweiUpgrade: task }) => {
        setText(result, `Upgrade started: platform task ${task.externalId} on ${task.subTasks.totalCount} device(s).`);
        form.reset();
        onCreated(task);
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
