import { h } from '../dom.js';

/**
 * Copies `text` to the clipboard. The Clipboard API exists only on secure origins, and a
 * self-hosted server is often plain http on an internal name: there the text in `shown` is
 * selected and copied the old way. Returns whether the browser reported a copy.
 */
export async function copyText(text: string, shown: HTMLElement): Promise<boolean> {
  if (window.isSecureContext && navigator.clipboard) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Permission refused: fall through to the selection, which also leaves the text selected.
    }
  }
  const selection = window.getSelection();
  if (!selection) return false;
  const range = document.createRange();
  range.selectNodeContents(shown);
  selection.removeAllRanges();
  selection.addRange(range);
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

/** A "Copy" button for the text of `shown`; it says whether the copy worked or the text is selected for Ctrl+C. */
export function copyButton(shown: HTMLElement): HTMLButtonElement {
  const button = h('button', { type: 'button' }, 'Copy');
  button.addEventListener('click', () => {
    void copyText(shown.textContent ?? '', shown).then((ok) => {
      button.textContent = ok ? 'Copied' : 'Selected: press Ctrl+C';
    });
  });
  return button;
}
