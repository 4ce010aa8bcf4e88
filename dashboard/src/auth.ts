/*
 * The API token, when the gateway has one (API_TOKEN). The page does not know
 * in advance: it asks the first time the gateway refuses it (HTTP 401 or
 * WebSocket close 4401/4403), then keeps the token in sessionStorage, which lasts
 * as long as the tab and is not shared with other tabs or sent as a cookie.
 */
import { byId } from './dom';

const STORAGE_KEY = 'ota-gateway.apiToken';

/** The token to send, if one was entered in this tab. */
export function currentToken(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage blocked by the browser: the page asks on every refusal
  }
}

function storeToken(token: string | null): void {
  try {
    if (token === null) sessionStorage.removeItem(STORAGE_KEY);
    else sessionStorage.setItem(STORAGE_KEY, token);
  } catch {
    /* see currentToken */
  }
}

/** The open prompt; every caller refused meanwhile waits on the same one. */
let pending: Promise<string> | null = null;

/** The open prompt, if any (the WebSocket waits on it before retrying). */
export function tokenPrompt(): Promise<string> | null {
  return pending;
}

/**
 * Called when the gateway refused a request made with `sent` (null: none).
 * Resolves with the token to retry with: a newer one if it was entered
 * meanwhile (by another refused request), else the one the user types now.
 */
export function tokenRefused(sent: string | null): Promise<string> {
  const stored = currentToken();
  if (stored !== null && stored !== sent) return Promise.resolve(stored);
  storeToken(null);
  pending ??= prompt(sent !== null).finally(() => {
    pending = null;
  });
  return pending;
}

/**
 * Shows the token form (static in index.html) until a token is submitted.
 * Not a modal dialog: the rest of the page stays readable meanwhile.
 */
function prompt(wasRefused: boolean): Promise<string> {
  const section = byId('token-section');
  const form = byId<HTMLFormElement>('token-form');
  const input = byId<HTMLInputElement>('token-input');
  const error = byId('token-error');
  const message = byId('token-message');
  const returnFocusTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;

  message.textContent = wasRefused
    ? 'The gateway refused that token. Enter the API token again.'
    : 'This gateway needs an API token. It is kept in this browser tab only.';
  error.textContent = '';
  input.removeAttribute('aria-invalid');
  input.value = '';
  section.hidden = false;
  input.focus();

  return new Promise((resolve) => {
    const onSubmit = (event: SubmitEvent): void => {
      event.preventDefault();
      const token = input.value.trim();
      if (token === '') {
        error.textContent = 'Enter the token.';
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        return;
      }
      form.removeEventListener('submit', onSubmit);
      storeToken(token);
      input.value = '';
      section.hidden = true;
      returnFocusTo?.focus();
      resolve(token);
    };
    form.addEventListener('submit', onSubmit);
  });
}
