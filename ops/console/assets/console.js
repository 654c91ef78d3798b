// The console works without this script; it only adds two conveniences:
// "/" focuses the search box, and a running action's progress refreshes in place.
'use strict';
document.addEventListener('keydown', (event) => {
  const target = event.target;
  const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
  if (event.key === '/' && !typing) {
    const search = document.getElementById('search');
    if (search) {
      event.preventDefault();
      search.focus();
    }
  }
});

const progress = document.querySelector('[data-progress-url]');
if (progress) {
  const url = progress.getAttribute('data-progress-url');
  const poll = async () => {
    try {
      const answer = await fetch(url, { credentials: 'same-origin', headers: { accept: 'text/html' } });
      if (answer.ok) {
        const fragment = await answer.text();
        if (fragment.includes('data-done="true"')) {
          window.location.reload();
          return;
        }
        progress.innerHTML = fragment;
      }
    } catch {
      // the next poll tries again
    }
    setTimeout(poll, 700);
  };
  setTimeout(poll, 700);
}
