/*
 * The "start a Huawei upgrade" form: kind, the platform's file id and the
 * device ids (one per line or comma-separated). As with the DJI form, the
 * gateway is the one validator: its field errors appear beside the fields,
 * and a platform refusal (UPSTREAM_ERROR) is shown with the platform's code.
 */
import { byId, h, setText } from './dom';
import type { TaskWithSubTasks } from './graphql';
import { describeError, GraphQLRequestError, request } from './http';

const CREATE_HUAWEI_UPGRADE = /* GraphQL */ `
  mutation DashboardCreateHuaweiUpgrade($input: CreateHuaweiUpgradeInput!) {
    createHuaweiUpgrade(input: $input) {
      id source kind externalId gatewaySn status progress createdAt updatedAt
      subTasks {
        id deviceId status vendorStatus step percent
        sourceVersion currentVersion targetVersion statusDesc errorCode updatedAt
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
  const summary = byId('huawei-form-errors');
  const summaryList = byId('huawei-form-errors-list');
  const result = byId('huawei-form-result');
  let busy = false;
  const control = (name: string) => form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement | null;

  const clearErrors = (): void => {
    summary.hidden = true;
    summaryList.replaceChildren();
    for (const element of form.querySelectorAll<HTMLElement>('[aria-invalid]')) element.removeAttribute('aria-invalid');
    for (const element of form.querySelectorAll<HTMLElement>('.field-error')) element.textContent = '';
  };

  const showErrors = (error: unknown): void => {
    const general: string[] = [];
    if (!(error instanceof GraphQLRequestError)) general.push(describeError(error));
    else {
      for (const e of error.errors) {
        const extensions = e.extensions as { fields?: { field: string; message: string }[]; platformCode?: string | null } | undefined;
        const fields = extensions?.fields ?? [];
        for (const { field, message } of fields) {
          const target = control(controlName(field));
          if (!target) {
            summaryList.append(h('li', {}, `${field}: ${message}`));
            continue;
          }
          target.setAttribute('aria-invalid', 'true');
          const line = byId(`${target.id}-error`);
          line.textContent = line.textContent ? `${line.textContent} ${message}` : message;
          const link = h('a', { href: `#${target.id}` }, `${target.labels?.[0]?.textContent ?? field}: ${message}`);
          link.addEventListener('click', (event) => {
            event.preventDefault();
            target.focus();
          });
          summaryList.append(h('li', {}, link));
        }
        if (fields.length === 0) general.push(extensions?.platformCode ? `${e.message} (platform code ${extensions.platformCode})` : e.message);
      }
    }
    for (const message of general) summaryList.append(h('li', {}, message));
    summary.hidden = false;
    summary.focus();
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (busy) return;
    clearErrors();
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
        setText(result, `Upgrade started: platform task ${task.externalId} on ${task.subTasks.length} device(s).`);
        form.reset();
        onCreated(task);
      })
      .catch((error: unknown) => {
        setText(result, '');
        showErrors(error);
      })
      .finally(() => {
        busy = false;
      });
  });
}
