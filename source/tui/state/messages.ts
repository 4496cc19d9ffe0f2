/**
 * The status line and the message log behind it: every message is kept (the most recent
 * MESSAGE_LOG_SIZE), so one that was cut to the status line's width, or replaced by the next one
 * a moment later, can still be read in full (the log opens with a key).
 */
import type { StatusMessage, TuiState } from './types.js';

export const MESSAGE_LOG_SIZE = 500;

/** Shows `text` in the status line and appends it to the log. */
export function withStatus(
  state: TuiState,
  text: string,
  level: StatusMessage['level'],
  time: number,
): TuiState {
  const message: StatusMessage = { text, level, time };
  const log = [...state.ui.messages, message];
  const messages = log.length > MESSAGE_LOG_SIZE ? log.slice(log.length - MESSAGE_LOG_SIZE) : log;
  return { ...state, ui: { ...state.ui, status: message, messages } };
}

/** "14:03:07" in local time, for the log. */
export function messageClock(time: number): string {
  const date = new Date(time);
  return [date.getHours(), date.getMinutes(), date.getSeconds()]
    .map((part) => String(part).padStart(2, '0'))
    .join(':');
}

/**
 * The log as screen lines `width` columns wide, oldest first: each message wrapped at word
 * boundaries, continuation lines indented under its text.
 */
export function messageLines(
  messages: readonly StatusMessage[],
  width: number,
): { text: string; level: StatusMessage['level']; first: boolean }[] {
  const lines: { text: string; level: StatusMessage['level']; first: boolean }[] = [];
  const indent = 11;
  const room = Math.max(10, width - indent);
  for (const message of messages) {
    const wrapped = wrapText(message.text, room);
    wrapped.forEach((line, index) =>
      lines.push({
        text:
          index === 0
            ? `${messageClock(message.time)} ${message.level === 'error' ? '✖' : ' '} ${line}`
            : `${' '.repeat(indent)}${line}`,
        level: message.level,
        first: index === 0,
      }),
    );
  }
  return lines;
}

/** Greedy word wrap; words longer than `width` are cut. Newlines in the text are kept. */
export function wrapText(text: string, width: number): string[] {
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      let rest = word;
      while (rest.length > width) {
        if (line) {
          out.push(line);
          line = '';
        }
        out.push(rest.slice(0, width));
        rest = rest.slice(width);
      }
      if (!line) line = rest;
      else if (line.length + 1 + rest.length <= width) line += ` ${rest}`;
      else {
        out.push(line);
        line = rest;
      }
    }
    out.push(line);
  }
  return out;
}
