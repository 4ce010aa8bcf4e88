/*
 * How the page's forms show what the gateway refused: each error the server
 * names by field goes beside its control (aria-invalid, the control's error
 * line) and into a summary at the top that links to it; every other error is
 * listed in the summary with its message and code.
 */
import { byId, h } from './dom';
import { describeError, GraphQLRequestError, type GraphQLErrorShape } from './http';

/** One field error, with its path relative to the mutation's `input` (e.g. `target.filter`). */
export interface FieldError {
  field: string;
  message: string;
}

/** One GraphQL error as a sentence: its message, then its code and, from the Huawei platform, the platform's code. */
function withCode(e: GraphQLErrorShape): string {
  const codes = [e.extensions?.code, e.extensions?.platformCode ? `platform code ${e.extensions.platformCode}` : null].filter(Boolean);
  return codes.length > 0 ? `${e.message} (${codes.join(', ')})` : e.message;
}

/** A sentence for an error that names no field: the gateway's message and its code. */
export function describeWithCode(error: unknown): string {
  if (!(error instanceof GraphQLRequestError)) return describeError(error);
  return error.errors.map(withCode).join('; ');
}

/**
 * A value GraphQL refused before the resolver ran (a number of the wrong
 * type) comes as `Variable "$input" got invalid value … at "input.maxInProgress"; …`.
 */
function fromVariableError(message: string): FieldError | null {
  const match = /^Variable "\$input" got invalid value [\s\S]*? at "input\.([^"]+)"; ([\s\S]*)$/.exec(message);
  return match ? { field: match[1], message: match[2] } : null;
}

export class FormErrors {
  private readonly summary: HTMLElement;
  private readonly list: HTMLElement;

  /**
   * @param prefix ids of the summary (`<prefix>-errors`) and its list (`<prefix>-errors-list`)
   * @param controlFor the control a server field path belongs to (its error line is `<id>-error`), or null
   */
  constructor(
    private readonly form: HTMLFormElement,
    prefix: string,
    private readonly controlFor: (field: string) => HTMLElement | null,
  ) {
    this.summary = byId(`${prefix}-errors`);
    this.list = byId(`${prefix}-errors-list`);
  }

  clear(): void {
    this.summary.hidden = true;
    this.list.replaceChildren();
    for (const element of this.form.querySelectorAll<HTMLElement>('[aria-invalid]')) element.removeAttribute('aria-invalid');
    for (const element of this.form.querySelectorAll<HTMLElement>('.field-error')) element.textContent = '';
  }

  /** Shows what the gateway answered (or errors found before sending), and moves focus to the summary. */
  show(error: unknown, found: FieldError[] = []): void {
    const fieldErrors = [...found];
    const general: string[] = [];
    if (error instanceof GraphQLRequestError) {
      for (const e of error.errors) {
        const fields = e.extensions?.fields ?? [];
        const coerced = fromVariableError(e.message);
        if (fields.length > 0) fieldErrors.push(...fields);
        else if (coerced) fieldErrors.push(coerced);
        else general.push(withCode(e));
      }
    } else if (error !== null) {
      general.push(describeError(error));
    }
    for (const { field, message } of fieldErrors) {
      const target = this.controlFor(field);
      if (!target) {
        this.list.append(h('li', {}, `${field}: ${message}`));
        continue;
      }
      if (!(target instanceof HTMLFieldSetElement)) target.setAttribute('aria-invalid', 'true');
      const line = byId(`${target.id}-error`);
      line.textContent = line.textContent ? `${line.textContent} ${message}` : message;
      // A box inside a group is named with the group (`Device 1, MD5 of the file`).
      const group = target instanceof HTMLFieldSetElement ? null : target.closest('fieldset')?.querySelector('legend')?.textContent;
      const label = target instanceof HTMLFieldSetElement ? target.querySelector('legend')?.textContent : (target as HTMLInputElement).labels?.[0]?.textContent;
      const link = h('a', { href: `#${target.id}` }, `${group ? `${group}, ` : ''}${label ?? field}: ${message}`);
      link.addEventListener('click', (event) => {
        event.preventDefault();
        // A group of boxes takes focus on its first box.
        (target instanceof HTMLFieldSetElement ? target.querySelector<HTMLElement>('input, select') ?? target : target).focus();
      });
      this.list.append(h('li', {}, link));
    }
    for (const message of general) this.list.append(h('li', {}, message));
    this.summary.hidden = false;
    this.summary.focus();
  }
}
