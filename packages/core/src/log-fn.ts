// The one log signature of the data plane: the supervisor's (pino, from the app) and a shard's
// (sent to the supervisor over its port) alike.

export type LogFn = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
