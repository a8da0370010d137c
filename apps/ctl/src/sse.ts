// A text/event-stream parser (the WHATWG "server-sent events" format), for `rule-stats --watch`
// reading `GET /v1/stats/stream`. Chunks may split lines anywhere, including between the CR
// and LF of a CRLF; comments (`: keep-alive`) and unknown fields are skipped.

export interface SseEvent {
  /** The `event:` field, `message` when the event had none. */
  readonly event: string;
  /** The `data:` lines joined with "\n". */
  readonly data: string;
  readonly id: string | undefined;
}

export class SseParser {
  #buffer = '';
  #event = '';
  #data: string[] = [];
  #id: string | undefined;
  /** The last chunk ended in CR, so an LF opening the next one belongs to that line break. */
  #afterCr = false;

  /** Feeds decoded text; returns the events it completed. */
  push(text: string): SseEvent[] {
    let input = text;
    if (this.#afterCr && input.startsWith('\n')) input = input.slice(1);
    this.#afterCr = false;
    this.#buffer += input;
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const lf = this.#buffer.indexOf('\n', start);
      const cr = this.#buffer.indexOf('\r', start);
      if (lf === -1 && cr === -1) break;
      const end = cr === -1 || (lf !== -1 && lf < cr) ? lf : cr;
      const line = this.#buffer.slice(start, end);
      if (end === cr) {
        if (cr + 1 === this.#buffer.length) this.#afterCr = true;
        start = this.#buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
      } else {
        start = lf + 1;
      }
      const event = this.#line(line);
      if (event !== null) events.push(event);
    }
    this.#buffer = this.#buffer.slice(start);
    return events;
  }

  #line(line: string): SseEvent | null {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') this.#data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
    return null;
  }

  #dispatch(): SseEvent | null {
    const data = this.#data;
    const event = this.#event;
    this.#data = [];
    this.#event = '';
    if (data.length === 0) return null;
    return { event: event === '' ? 'message' : event, data: data.join('\n'), id: this.#id };
  }
}
