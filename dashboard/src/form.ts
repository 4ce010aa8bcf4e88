/*
 * The "start a DJI firmware upgrade" form. Validation is the gateway's job:
 * the form sends what was typed (no `required` check blocks the submit, see
 * `novalidate` in index.html) and shows each error the server names beside
 * its field, plus a summary at the top that links to the fields.
 *
 * One check is done here: the file size must be a whole number before it is
 * sent, because GraphQL refuses a whole request whose variables have the
 * wrong type, before the gateway's validation runs, so the server could name
 * no other field.
 */
import { byId, h, setText } from './dom';
import { FormErrors, type FieldError } from './form-errors';
import {
  CREATE_FIRMWARE_UPGRADE,
  type CreateFirmwareUpgradeData,
  type CreateFirmwareUpgradeInput,
  type FirmwareUpgradeDeviceInput,
  type FirmwareUpgradeType,
  type TaskWithSubTasks,
} from './graphql';
import { request } from './http';

/** The schema says "one or two devices" (a dock and its aircraft). */
const MAX_DEVICES = 2;

type DeviceKey = Exclude<keyof FirmwareUpgradeDeviceInput, 'firmwareUpgradeType'>;

const DEVICE_FIELDS: readonly { key: DeviceKey; label: string; hint?: string; type?: string; inputmode?: string }[] = [
  { key: 'sn', label: 'Device serial number', hint: 'The dock or its aircraft.' },
  { key: 'productVersion', label: 'Firmware version', hint: 'For example 10.01.16.04.' },
  { key: 'fileUrl', label: 'File URL', hint: 'http(s) address the device downloads the firmware from.', type: 'url' },
  { key: 'md5', label: 'MD5 of the file', hint: '32 hexadecimal digits.' },
  { key: 'fileSize', label: 'File size in bytes', inputmode: 'numeric' },
  { key: 'fileName', label: 'File name' },
];

const UPGRADE_TYPES: readonly { value: FirmwareUpgradeType; label: string }[] = [
  { value: 'REGULAR', label: 'Regular upgrade' },
  { value: 'CONSISTENT', label: 'Consistency upgrade' },
  { value: 'PSDK', label: 'PSDK upgrade (Dock 3)' },
];

/** A labelled text box with a hint and an (empty) error line, all tied to it by aria-describedby. */
function field(name: string, id: string, label: string, control: HTMLInputElement | HTMLSelectElement, hint?: string): HTMLElement {
  control.id = id;
  control.name = name;
  const describedBy = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', describedBy);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    ...(hint ? [h('p', { class: 'hint', id: `${id}-hint` }, hint)] : []),
    control,
    h('p', { class: 'field-error', id: `${id}-error` }),
  );
}

function deviceFieldset(index: number, onRemove: () => void): HTMLFieldSetElement {
  const children: HTMLElement[] = DEVICE_FIELDS.map(({ key, label, hint, type, inputmode }) => {
    const input = h('input', { type: type ?? 'text', autocomplete: 'off', spellcheck: 'false', required: '' });
    if (inputmode) input.setAttribute('inputmode', inputmode);
    return field(`devices[${index}].${key}`, `devices-${index}-${key}`, label, input, hint);
  });
  const select = h('select', { required: '' }, ...UPGRADE_TYPES.map(({ value, label }) => h('option', { value }, label)));
  children.push(field(`devices[${index}].firmwareUpgradeType`, `devices-${index}-firmwareUpgradeType`, 'Upgrade type', select));
  if (index > 0) {
    const remove = h('button', { type: 'button', class: 'secondary' }, `Remove device ${index + 1}`);
    remove.addEventListener('click', onRemove);
    children.push(remove);
  }
  return h('fieldset', { class: 'device' }, h('legend', {}, `Device ${index + 1}`), ...children);
}

/** Wires the form; `onCreated` gets the task the gateway created. */
export function setupUpgradeForm(onCreated: (task: TaskWithSubTasks) => void): void {
  const form = byId<HTMLFormElement>('upgrade-form');
  const devices = byId('devices');
  const addDevice = byId<HTMLButtonElement>('add-device');
  const result = byId('form-result');
  let busy = false;

  const deviceCount = () => devices.children.length;
  const control = (name: string) => form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null;

  const renderDevices = (count: number): void => {
    while (deviceCount() > count) devices.lastElementChild?.remove();
    while (deviceCount() < count) {
      devices.append(
        deviceFieldset(deviceCount(), () => {
          renderDevices(deviceCount() - 1);
          addDevice.focus(); // the button that had focus is gone
        }),
      );
    }
    addDevice.hidden = count >= MAX_DEVICES;
  };

  // Server paths (`devices[0].md5`) are the controls' names.
  const errors = new FormErrors(form, 'form', (field) => control(field));

  /** The mutation's input, and the sizes that are not whole numbers (see the top of this file). */
  const readInput = (): { input: CreateFirmwareUpgradeInput; typeErrors: FieldError[] } => {
    const value = (name: string) => control(name)?.value.trim() ?? '';
    const typeErrors: FieldError[] = [];
    const input = {
      gatewaySn: value('gatewaySn'),
      devices: Array.from({ length: deviceCount() }, (_, i) => {
        const size = value(`devices[${i}].fileSize`);
        if (!/^\d+$/.test(size)) typeErrors.push({ field: `devices[${i}].fileSize`, message: 'Enter the size as a whole number of bytes.' });
        return {
          sn: value(`devices[${i}].sn`),
          productVersion: value(`devices[${i}].productVersion`),
          fileUrl: value(`devices[${i}].fileUrl`),
          md5: value(`devices[${i}].md5`),
          fileSize: Number(size),
          fileName: value(`devices[${i}].fileName`),
          firmwareUpgradeType: value(`devices[${i}].firmwareUpgradeType`) as FirmwareUpgradeType,
        };
      }),
    };
    return { input, typeErrors };
  };

  addDevice.addEventListener('click', () => {
    renderDevices(deviceCount() + 1);
    control(`devices[${deviceCount() - 1}].sn`)?.focus();
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (busy) return; // a second Enter while the first request runs
    errors.clear();
    const { input, typeErrors } = readInput();
    if (typeErrors.length > 0) return errors.show(null, typeErrors);
    busy = true;
    setText(result, 'Starting the upgrade…');
    request<CreateFirmwareUpgradeData>(CREATE_FIRMWARE_UPGRADE, { input })
      .then(({ createFirmwareUpgrade: task }) => {
        setText(result, `Upgrade started: task ${task.externalId}.`);
        form.reset();
        renderDevices(1);
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

  renderDevices(1);
}
