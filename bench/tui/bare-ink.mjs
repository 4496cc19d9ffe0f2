// The smallest Ink program: one line of text, then exit. The floor the TUI's first frame is
// measured against in bench/tui/first-frame.mjs (same Node, same Ink, same terminal).
import { render, Text } from 'ink';
import React from 'react';

const app = render(React.createElement(Text, null, 'BARE-INK-READY'));
app.unmount();
