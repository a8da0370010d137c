// Messages over a pinned TLS socket: frames out (encodeFrame), frames in (FrameReader), every
// incoming frame validated against the server's schema. A frame that does not parse or validate
// ends the channel with reason `protocol_error`; the channel reports its end exactly once.

import type { TLSSocket } from 'node:tls';
import {
  type EdgeMessage,
  encodeFrame,
  FrameReader,
  type ServerMessage,
  serverMessageSchema,
} from '@sluice/protocol';

export interface ChannelEnd {
  /** `protocol_error`, `server_closed`, `socket_error`, or what the owner passed to close(). */
  readonly reason: string;
  readonly detail: string;
}

export interface ChannelHandlers {
  message(message: ServerMessage): void;
  end(end: ChannelEnd): void;
}

export class ControlChannel {
  private readonly socket: TLSSocket;
  private readonly reader = new FrameReader();
  private readonly handlers: ChannelHandlers;
  private ended = false;

  constructor(socket: TLSSocket, handlers: ChannelHandlers) {
    this.socket = socket;
    this.handlers = handlers;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => this.finish('socket_error', err.code ?? err.message));
    socket.on('close', () => this.finish('server_closed', 'the server closed the connection'));
  }

  get open(): boolean {
    return !this.ended;
  }

  send(message: EdgeMessage): void {
    if (this.ended) return;
    this.socket.write(encodeFrame(message));
  }

  /** Ends the channel on our side; `reason` is what end() reports. */
  close(reason: string, detail = ''): void {
    this.finish(reason, detail);
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    let frames: unknown[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      this.finish('protocol_error', (err as Error).message);
      return;
    }
    for (const frame of frames) {
      if (this.ended) return;
      const parsed = serverMessageSchema.safeParse(frame);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const type =
          typeof frame === 'object' && frame !== null && 'type' in frame ? String(frame.type) : '?';
        this.finish(
          'protocol_error',
          `message of type ${type}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
        );
        return;
      }
      this.handlers.message(parsed.data);
    }
  }

  private finish(reason: string, detail: string): void {
    if (this.ended) return;
    this.ended = true;
    this.socket.destroy();
    this.handlers.end({ reason, detail });
  }
}
