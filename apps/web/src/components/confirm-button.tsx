// A destructive action behind a confirmation that says what goes with it, in a native <dialog>
// (focus is trapped and Escape cancels without any code of ours).

import { useRef, useState } from 'preact/hooks';
import { type ApiError, asApiError } from '../api/api-error.ts';
import { Problem } from './problem.tsx';

interface ConfirmButtonProps {
  readonly label: string;
  /** The dialog's text: what the action does and what goes with it. */
  readonly consequence: string;
  readonly action: () => Promise<unknown>;
  readonly onDone: () => void;
}

export function ConfirmButton({ label, consequence, action, onDone }: ConfirmButtonProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const confirm = async () => {
    setBusy(true);
    try {
      await action();
      dialog.current?.close();
      onDone();
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        class="danger"
        onClick={() => {
          setError(null);
          dialog.current?.showModal();
        }}
      >
        {label}
      </button>
      <dialog ref={dialog} aria-label={label}>
        <p>{consequence}</p>
        <Problem error={error} />
        <div class="actions">
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button type="button" class="danger" onClick={confirm} disabled={busy}>
            {label}
          </button>
        </div>
      </dialog>
    </>
  );
}
