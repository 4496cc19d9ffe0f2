/** A single-line text being typed, with a block cursor at its end. */
import { Text } from 'ink';
import React from 'react';

export interface TextFieldProps {
  value: string;
  /** Shown dim when the value is empty. */
  placeholder?: string;
  /** Draws the cursor (the field has the keyboard). */
  focused: boolean;
  /** Columns available; long values show their end. */
  width?: number;
  /** The whole value is selected (inverse): the first key typed replaces it. */
  selected?: boolean;
}

export function TextField({ value, placeholder, focused, width, selected = false }: TextFieldProps) {
  const room = width === undefined ? undefined : Math.max(1, width - 1);
  const shown =
    room !== undefined && value.length > room ? `…${value.slice(value.length - room + 1)}` : value;
  return (
    <Text>
      {shown === '' && placeholder && !focused ? (
        <Text dimColor>{placeholder}</Text>
      ) : (
        <Text inverse={selected && focused}>{shown}</Text>
      )}
      {focused ? <Text inverse> </Text> : null}
      {shown === '' && placeholder && focused ? (
        <Text dimColor>{placeholder.slice(0, Math.max(0, (room ?? placeholder.length) - 1))}</Text>
      ) : null}
    </Text>
  );
}
