// One name for each control-session message, made from @sluice/protocol's unions (the home of
// the messages themselves), so the server, the edge and the fakes do not each declare their own.

import type { EdgeMessage, ServerMessage } from '@sluice/protocol';

export type EdgeMessageOf<T extends EdgeMessage['type']> = Extract<EdgeMessage, { type: T }>;
export type ServerMessageOf<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

export type EnrollMessage = EdgeMessageOf<'enroll'>;
export type HelloMessage = EdgeMessageOf<'hello'>;
export type AckMessage = EdgeMessageOf<'ack'>;
export type StatsMessage = EdgeMessageOf<'stats'>;

export type EnrolledMessage = ServerMessageOf<'enrolled'>;
export type WelcomeMessage = ServerMessageOf<'welcome'>;
export type RefusedMessage = ServerMessageOf<'refused'>;
export type PushMessage = ServerMessageOf<'push'>;
