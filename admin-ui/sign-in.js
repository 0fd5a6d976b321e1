// The sign-in page: posts the key once, then goes to the dashboard. Nothing is written to any storage.

const REFUSALS = {
  API_KEY_MISSING: 'Enter an API key or an admin token.',
  API_KEY_INVALID: 'That key or token was refused.',
  TOKEN_INVALID: 'That key or token was refused.',
  TOKEN_EXPIRED: 'That token has expired. Log in to the auth service again for a fresh one.',
  SESSION_REVOKED: 'That token\'s session was logged out.',
  FORBIDDEN: 'That token does not hold the admin permission.',
  RATE_LIMITED: 'Too many attempts. Wait a moment and try again.',
  AUTH_UNAVAILABLE: 'The token could not be checked right now. Try again shortly.',
};

const ENDINGS = {
  expired: 'Your session has ended. Sign in again to continue.',
  'signed-out': 'You are signed out.',
};

const form = document.getElementById('sign-in-form');
const input = document.getElementById('credential');
const error = document.getElementById('sign-in-error');
const note = document.getElementById('sign-in-note');

const ended = new URLSearchParams(location.search).get('ended');
if (ended !== null && ENDINGS[ended] !== undefined) {
  note.textContent = ENDINGS[ended];
  note.hidden = false;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const credential = input.value.trim();
  // The field is cleared at once: the key stays in this page for the one request only.
  input.value = '';
  error.hidden = true;
  if (credential === '') return showError(REFUSALS.API_KEY_MISSING);
  const button = form.querySelector('button');
  button.disabled = true;
  try {
    const response = await fetch('/admin/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ credential }),
    });
    if (response.ok) {
      location.replace('/admin');
      return;
    }
    const body = await response.json().catch(() => ({}));
    const code = body?.error?.code;
    showError(REFUSALS[code] ?? body?.error?.message ?? `Sign-in failed (HTTP ${response.status}).`);
  } catch {
    showError('The gateway could not be reached.');
  } finally {
    button.disabled = false;
  }
});

function showError(message) {
  error.textContent = message;
  error.hidden = false;
  input.focus();
}
