// Copies a text to the clipboard and says so in a status beside the button (the button's own
// name stays the same, so what is seen is what a screen reader names). navigator.clipboard needs
// a secure context (https or localhost); elsewhere the user is asked to select the text.

import { useState } from 'preact/hooks';

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
  };
  return (
    <>
      <button
        type="button"
        class={state === 'copied' ? 'copied' : undefined}
        onClick={copy}
        aria-label={label}
      >
        Copy
      </button>
      <span role="status" class="copy-status">
        {state === 'copied'
          ? 'Copied'
          : state === 'failed'
            ? 'Copying failed: select the text and copy it'
            : ''}
      </span>
    </>
  );
}
