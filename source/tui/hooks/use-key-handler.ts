/**
 * The one keyboard handler: every key goes through the keymap (interpretKey), its actions to the
 * store and its effects to the runtime. Panes do not listen to keys themselves, so a key means
 * one thing at a time and the help overlay can list everything.
 */
import { useInput } from 'ink';
import { useTui } from '../context.js';
import { expandInput } from '../keymap/keys.js';
import { interpretKey } from '../state/interpret.js';

export function useKeyHandler(options: { isActive?: boolean } = {}): void {
  const { store, keymap, runEffect } = useTui();
  useInput(
    (input, key) => {
      for (const pressed of expandInput(input, key)) {
        const { actions, effects } = interpretKey(store.getState(), keymap, pressed.name, pressed.input);
        // At once: the user waits for this frame (what data sources dispatch is paced, see store.ts).
        if (actions.length > 0) store.dispatchNow(...actions);
        for (const effect of effects) runEffect(effect);
      }
    },
    { isActive: options.isActive ?? true },
  );
}
