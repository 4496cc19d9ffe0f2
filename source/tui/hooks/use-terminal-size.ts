/** Reports the terminal size to the store at start and on every resize. */
import { useStdout } from 'ink';
import { useEffect } from 'react';
import { useTui } from '../context.js';

export function useTerminalSize(): void {
  const { stdout } = useStdout();
  const { store } = useTui();
  useEffect(() => {
    const report = () => {
      if (stdout.columns && stdout.rows)
        store.dispatch({ type: 'ui/resized', size: { columns: stdout.columns, rows: stdout.rows } });
    };
    report();
    stdout.on('resize', report);
    return () => {
      stdout.off('resize', report);
    };
  }, [stdout, store]);
}
