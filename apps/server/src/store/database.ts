// The tables as the query layer sees them (store/kysely/*), one type for both backends: the
// SQLite schema of migrations.ts and its PostgreSQL twin of postgres-migrations.ts. Times are
// epoch ms, flags 0/1 integers and JSON is text in both, so a row reads the same from either.

import type { Generated } from 'kysely';

export interface UsersTable {
  id: string;
  name: string;
  role: string;
  created_at: number;
  display_name: string | null;
  disabled_at: number | null;
  password_hash: string | null;
  must_change_password: Generated<number>;
}

export interface TokensTable {
  id: string;
  user_id: string;
  hash: string;
  label: string | null;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  hash: string;
  created_at: number;
  last_seen_at: number;
}

export interface EdgesTable {
  id: string;
  name: string;
  secret_hash: string | null;
  version: number | null;
  created_at: number;
  enrolled_at: number | null;
  last_seen_at: number | null;
  revoked_at: number | null;
}

export interface EnrollmentsTable {
  id: string;
  edge_id: string;
  code_hash: string;
  created_by: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  superseded_at: number | null;
}

export interface RulesTable {
  id: string;
  edge_id: string;
  owner: string;
  name: string;
  revision: number;
  state: string;
  reason: string | null;
  message: string | null;
  body: string;
  /** The listen's protocol, first port and width (last - first); null before schema 9. */
  protocol: string | null;
  port_lo: number | null;
  port_span: number | null;
  created_at: number;
  updated_at: number;
}

export interface RuleStatsTable {
  rule_id: string;
  at: number;
  bytes_in: number;
  bytes_out: number;
  connections_total: number;
  active_connections: number;
  rejected: number;
  connect_errors: number;
  bytes_in_per_sec: number;
  bytes_out_per_sec: number;
  boot_id: string;
  last_bytes_in: number;
  last_bytes_out: number;
  last_connections_total: number;
  last_rejected: number;
  last_connect_errors: number;
  rejected_by_reason: string;
  last_rejected_by_reason: string;
}

export interface AuditTable {
  id: Generated<number>;
  at: number;
  user: string | null;
  action: string;
  target: string | null;
  outcome: string;
  from_addr: string | null;
  change_json: string | null;
}

export interface GrantsTable {
  id: string;
  user_id: string;
  edge_id: string | null;
  port_lo: number;
  port_hi: number;
  tcp: number;
  udp: number;
  created_at: number;
}

export interface OwnerLimitsTable {
  edge_id: string;
  owner: string;
  limits: string;
  updated_at: number;
}

export interface QuotasTable {
  user_id: string;
  edge_id: string;
  monthly_bytes: number;
  period_anchor: number;
  period_start: number;
  period_end: number;
  used_bytes: number;
  exhausted_at: number | null;
  updated_at: number;
}

export interface OwnerUsageTable {
  edge_id: string;
  owner: string;
  boot_id: string;
  bytes: number;
}

export interface TrafficTable {
  width: number;
  at: number;
  rule_id: string;
  edge_id: string;
  owner: string;
  bytes_in: number;
  bytes_out: number;
}

export interface ReplicasTable {
  id: string;
  control_host: string;
  control_port: number;
  started_at: number;
  heartbeat_at: number;
}

export interface EdgeSessionsTable {
  edge_id: string;
  replica_id: string;
  session_id: string;
  boot_id: string;
  since: number;
}

export interface SchemaVersionTable {
  version: number;
  name: string;
  applied_at: number;
}

export interface Database {
  users: UsersTable;
  tokens: TokensTable;
  sessions: SessionsTable;
  edges: EdgesTable;
  enrollments: EnrollmentsTable;
  rules: RulesTable;
  rule_stats: RuleStatsTable;
  audit: AuditTable;
  grants: GrantsTable;
  owner_limits: OwnerLimitsTable;
  quotas: QuotasTable;
  owner_usage: OwnerUsageTable;
  traffic: TrafficTable;
  replicas: ReplicasTable;
  edge_sessions: EdgeSessionsTable;
  schema_version: SchemaVersionTable;
}
