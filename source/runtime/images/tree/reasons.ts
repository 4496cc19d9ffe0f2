/**
 * What a modified path changed, in words both `gantry image tree` and the TUI's Layers pane
 * print: "mode 644->600", "owner 0:0->1000:1000", "content", "type changed".
 */
import type { FileNode } from './types.js';

export function modifyReasonText(node: FileNode, arrow = '->'): string {
  if (node.kind !== 'modified' || !node.reasons || node.reasons.length === 0) return '';
  const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(3, '0');
  return node.reasons
    .map((reason) => {
      if (reason === 'mode' && node.previous && node.mode !== undefined)
        return `mode ${octal(node.previous.mode)}${arrow}${octal(node.mode)}`;
      if (reason === 'owner' && node.previous)
        return `owner ${node.previous.uid}:${node.previous.gid}${arrow}${node.uid}:${node.gid}`;
      if (reason === 'type') return 'type changed';
      return reason;
    })
    .join(', ');
}
