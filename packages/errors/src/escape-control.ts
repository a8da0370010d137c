// Text that reaches a terminal (a log message, an error line) may hold what a peer sent. Control
// characters in it could forge a line (CR, LF) or drive the terminal (ESC sequences); each is
// shown as its escape instead, so what is printed is what was received, visibly.

// C0 controls and DEL, and the C1 controls that some terminals also obey: matching them is the point.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters to escape
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    switch (c) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
}
