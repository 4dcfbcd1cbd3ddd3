import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { messageOf } from './api.ts';

/** Data a page reads from the API: loading, loaded, or failed with a message; reload() asks again. */
export interface Loadable<T> {
  data: T | undefined;
  error: string;
  reload: () => Promise<void>;
  /** Replaces the data with what an action returned (no request). */
  set: (data: T) => void;
}

/**
 * The console's one data-loading hook. Every page loads through it, so every page shows the same three
 * states (Loading…, the data, or the error with a Retry button) and a late answer for a tenant the
 * person has left is dropped. A session that has ended needs nothing here: api.ts sends the whole app
 * back to sign-in.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loadable<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState('');
  const latest = useRef(0);
  const reload = useCallback(async () => {
    const request = ++latest.current;
    setError('');
    try {
      const loaded = await load();
      if (request === latest.current) setData(loaded);
    } catch (err) {
      if (request === latest.current) setError(messageOf(err));
    }
  }, deps);
  useEffect(() => {
    setData(undefined);
    void reload();
  }, [reload]);
  return { data, error, reload, set: setData };
}

/** What an action a person started (a submit, a revoke) has come to: its error message, if it failed. */
export interface Action {
  error: string;
  setError: (message: string) => void;
  /**
   * Runs the action with the error cleared first; a failure becomes the message shown (`describe` may word
   * it), never an unhandled rejection. Resolves either way.
   */
  run: (action: () => Promise<unknown>) => Promise<void>;
}

/** The console's one try/catch around the calls an action makes (useLoad has the one for loading). */
export function useAction(describe: (err: unknown) => string = messageOf): Action {
  const [error, setError] = useState('');
  const run = useCallback(async (action: () => Promise<unknown>) => {
    setError('');
    try {
      await action();
    } catch (err) {
      setError(describe(err));
    }
  }, [describe]);
  return { error, setError, run };
}

/** Shows what a Loadable holds: Loading…, the error with Retry, or the content made from the data. */
export function Loaded<T>(props: { state: Loadable<T>; what: string; children: (data: T) => ComponentChildren }) {
  const { state } = props;
  if (state.data === undefined && state.error) {
    return (
      <div class="load-failed" role="alert">
        <p class="error">Could not load {props.what}: {state.error}</p>
        <button type="button" onClick={() => void state.reload()}>Retry</button>
      </div>
    );
  }
  if (state.data === undefined) return <p role="status">Loading…</p>;
  return <>{props.children(state.data)}</>;
}
