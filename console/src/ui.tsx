import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

export function ErrorText(props: { text: string }) {
  return props.text ? <p class="error" role="alert">{props.text}</p> : null;
}

/**
 * A native modal dialog: focus moves in (to the element marked autoFocus, else the first), the page behind is
 * inert, Escape closes. With `confirmDiscard` (a dialog showing something that is gone once closed, such as a
 * new key), Escape asks first, with "Back" focused.
 */
export function Dialog(props: { title: string; onClose: () => void; confirmDiscard?: string; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  const back = useRef<HTMLButtonElement>(null);
  const [asking, setAsking] = useState(false);
  useEffect(() => {
    const dialog = ref.current!;
    dialog.showModal();
    return () => dialog.close();
  }, []);
  useEffect(() => { if (asking) back.current?.focus(); }, [asking]);
  const cancel = (e: Event) => {
    e.preventDefault();
    if (props.confirmDiscard === undefined) props.onClose();
    else setAsking(true);
  };
  return (
    <dialog ref={ref} aria-labelledby="dialog-title" onCancel={cancel}>
      <h2 id="dialog-title">{props.title}</h2>
      {asking && (
        <div class="confirm-discard" role="alert">
          <p><strong>{props.confirmDiscard}</strong></p>
          <div class="buttons">
            <button type="button" ref={back} onClick={() => setAsking(false)}>Back</button>
            <button type="button" class="danger" onClick={props.onClose}>Close anyway</button>
          </div>
        </div>
      )}
      {props.children}
    </dialog>
  );
}

/** Copies `text`, saying so ("Copied"), or, where the browser refuses, how to copy it by hand. */
export function CopyButton(props: { text: string; what: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.text);
      setState('copied');
    } catch {
      // No clipboard (plain http on another host, or permission refused): the text is there to copy by hand.
      setState('failed');
    }
  };
  return (
    <>
      <button type="button" class="secondary copy" aria-label={`Copy ${props.what}`} onClick={() => void copy()}>{state === 'copied' ? 'Copied' : 'Copy'}</button>
      <span class="visually-hidden" role="status">{state === 'copied' ? `${props.what} copied` : ''}</span>
      {state === 'failed' && <p class="error" role="alert">The browser did not let Kupe copy: select the {props.what} and copy it by hand.</p>}
    </>
  );
}

export function Badge(props: { kind: 'danger' | 'warn' | 'info'; children: ComponentChildren }) {
  return <span class={`badge ${props.kind}`}>{props.children}</span>;
}
