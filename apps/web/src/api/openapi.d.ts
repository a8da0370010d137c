// Generated from docs/openapi.json by apps/web/scripts/gen-api-types.ts (pnpm --filter @sluice/web gen:api).
// Do not edit: src/api/openapi-types.test.ts fails when this file is stale.

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Whether the server answers
         * @description No token needed.
         */
        get: operations["health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Whether the server can serve: it reads its database (503 store_unavailable when it cannot)
         * @description No token needed.
         */
        get: operations["ready"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * This document
         * @description No token needed.
         */
        get: operations["openapi"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/enrollments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Make a one-time enrollment code for an edge name, new or existing
         * @description An admin's token only.
         */
        post: operations["createEnrollment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/edges": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List enrolled edges
         * @description Any valid token.
         */
        get: operations["listEdges"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/edges/{edge}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Show an edge by id or name
         * @description Any valid token.
         */
        get: operations["getEdge"];
        put?: never;
        post?: never;
        /**
         * Delete an edge with its rules
         * @description An admin's token only.
         */
        delete: operations["deleteEdge"];
        options?: never;
        head?: never;
        /**
         * Rename an edge
         * @description An admin's token only.
         */
        patch: operations["renameEdge"];
        trace?: never;
    };
    "/v1/edges/{edge}/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Revoke an edge: its session is closed and it can no longer connect
         * @description An admin's token only.
         */
        post: operations["revokeEdge"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/rules": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List rules (a user token sees only its user's)
         * @description Any valid token.
         */
        get: operations["listRules"];
        put?: never;
        /**
         * Push a rule to an edge and wait for the edge's ack
         * @description Any valid token.
         */
        post: operations["pushRule"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/rules/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Show a rule
         * @description Any valid token.
         */
        get: operations["getRule"];
        /**
         * Replace a rule's table at the next revision and wait for the edge's ack
         * @description Any valid token.
         */
        put: operations["updateRule"];
        post?: never;
        /**
         * Remove a rule; the edge drains its connections
         * @description Any valid token.
         */
        delete: operations["removeRule"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/rules/{id}/stats": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A rule's traffic totals and rates
         * @description Any valid token.
         */
        get: operations["getRuleStats"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/stats/stream": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Server-sent events: one `stats` event per rule per stats report
         * @description Any valid token.
         */
        get: operations["streamStats"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The audit trail, newest first
         * @description An admin's token only.
         */
        get: operations["listAudit"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start a web session: sets the HttpOnly session cookie (8 h idle, 7 d at most)
         * @description No token needed.
         */
        post: operations["login"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * End the web session of the cookie sent, and clear the cookie
         * @description Any valid token.
         */
        post: operations["logout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List users
         * @description An admin's token only.
         */
        get: operations["listUsers"];
        put?: never;
        /**
         * Make a user, with a password or for tokens only
         * @description An admin's token only.
         */
        post: operations["createUser"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{user}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Show a user (`me`: the caller; users may see only themselves)
         * @description Any valid token.
         */
        get: operations["getUser"];
        put?: never;
        post?: never;
        /**
         * Delete a user with their rules (drained from their edges), tokens and sessions
         * @description An admin's token only.
         */
        delete: operations["deleteUser"];
        options?: never;
        head?: never;
        /**
         * Change a user's display name, or disable / enable them
         * @description An admin's token only.
         */
        patch: operations["updateUser"];
        trace?: never;
    };
    "/v1/users/me/password": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Change your own password (the current one is required)
         * @description Any valid token.
         */
        put: operations["changePassword"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{user}/password-reset": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Set a temporary password that must be changed at the next login
         * @description An admin's token only.
         */
        post: operations["resetPassword"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{user}/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List a user's API tokens (users: their own)
         * @description Any valid token.
         */
        get: operations["listTokens"];
        put?: never;
        /**
         * Make an API token (users: for themselves); the secret is shown once
         * @description Any valid token.
         */
        post: operations["createToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{user}/tokens/{token}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Revoke an API token (users: their own)
         * @description Any valid token.
         */
        delete: operations["revokeToken"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/grants": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List grants (a user token sees only its user's)
         * @description Any valid token.
         */
        get: operations["listGrants"];
        put?: never;
        /**
         * Grant a user the right to forward on an edge (or every edge) for ports and protocols
         * @description An admin's token only.
         */
        post: operations["createGrant"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/grants/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Revoke a grant; the rules only it allowed are drained and removed
         * @description An admin's token only.
         */
        delete: operations["revokeGrant"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/edges/{edge}/owners/{owner}/limits": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The caps an owner's rules share on an edge
         * @description An admin's token only.
         */
        get: operations["getOwnerLimits"];
        /**
         * Set the caps an owner's rules share on an edge, and push them to the edge
         * @description An admin's token only.
         */
        put: operations["setOwnerLimits"];
        post?: never;
        /**
         * Remove an owner's caps on an edge
         * @description An admin's token only.
         */
        delete: operations["deleteOwnerLimits"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{user}/quotas": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A user's quotas and their status (a user may see their own)
         * @description Any valid token.
         */
        get: operations["listQuotas"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{user}/quotas/{edge}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A user's quota on an edge: used, remaining, the period, when it ran out
         * @description Any valid token.
         */
        get: operations["getQuota"];
        /**
         * Set a user's monthly quota on an edge, and push the budget to the edge
         * @description An admin's token only.
         */
        put: operations["setQuota"];
        post?: never;
        /**
         * Remove a user's quota on an edge
         * @description An admin's token only.
         */
        delete: operations["deleteQuota"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{user}/quotas/{edge}/clear": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Zero a user's usage in the current period; a spent quota serves again at once
         * @description An admin's token only.
         */
        post: operations["clearQuota"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/traffic": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Bytes in and out per 1m or 1h bucket, summed over one rule, an edge's, a user's, or all the caller may see (a user token: only its own rules)
         * @description Any valid token.
         */
        get: operations["getTraffic"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        ApiToken: {
            id: string;
            name: string;
            /** Format: date-time */
            createdAt: string;
            lastUsedAt: string | null;
            revoked: boolean;
        };
        ApiTokenList: {
            tokens: components["schemas"]["ApiToken"][];
        };
        AuditEntry: {
            /** @description increasing; pages are cut by it */
            id: number;
            /** Format: date-time */
            at: string;
            /** @description null when no valid token was sent */
            user: string | null;
            /** @description rule.push, edge.revoke, ... or METHOD ROUTE */
            action: string;
            /** @description the edge or rule id acted on */
            target: string | null;
            /** @description ok, or the error code */
            outcome: string;
            /** @description the client's address */
            from: string | null;
            /** @description for a change: the object as the API showed it before and after (null where it did not exist) */
            change: {
                before: unknown;
                after: unknown;
            } | null;
        };
        AuditList: {
            entries: components["schemas"]["AuditEntry"][];
            /** @description pass as `before` for the next (older) page; null on the last page */
            next: number | null;
        };
        ChangePassword: {
            currentPassword: string;
            newPassword: string;
        };
        CreatedToken: {
            id: string;
            name: string;
            /** Format: date-time */
            createdAt: string;
            lastUsedAt: string | null;
            revoked: boolean;
            /** @description shown once; only its hash is kept */
            token: string;
        };
        CreateEnrollment: {
            /**
             * @description 1-253 letters, digits, "_", "." or "-", starting with a letter or digit; not of the form e_ and 12 hex digits
             * @example edge-01
             */
            edge: string;
            /** @description how long the code is valid: a number and s, m, h or d, within 1m .. 7d (default 10m) */
            ttl?: string;
        };
        CreateToken: {
            name: string;
        };
        CreateUser: {
            name: string;
            /** @description default: the name */
            displayName?: string;
            /**
             * @default user
             * @enum {string}
             */
            role: "admin" | "user";
            /** @description none: the user logs in with tokens only */
            password?: string;
        };
        DeletedUser: {
            user: components["schemas"]["User"];
            /** @description ids of the rules removed (drained from their edges) */
            rules: string[];
            tokens: number;
            sessions: number;
        };
        Edge: {
            id: string;
            name: string;
            /** @description whether the edge has a control session now */
            connected: boolean;
            revoked: boolean;
            /** @description the protocol version of its last hello */
            version: number | null;
            lastSeenAt: string | null;
            enrolledAt: string | null;
            /** @description how many live rules it has */
            rules: number;
        };
        EdgeList: {
            edges: components["schemas"]["Edge"][];
        };
        EdgeRef: {
            id: string;
            name: string;
        };
        Enrollment: {
            edge: components["schemas"]["EdgeRef"];
            /** @description the one-time code */
            code: string;
            /** @description sluice://HOST:PORT[,HOST:PORT...]/enroll?pin=SHA256&code=CODE: every replica's control address, in the order an edge tries them */
            uri: string;
            /** @description the command that redeems it on the edge */
            command: string;
            /** Format: date-time */
            expiresAt: string;
        };
        Error: {
            error: {
                /** @description a code of the table, or a newer one */
                code: string;
                message: string;
            };
        };
        Grant: {
            id: string;
            user: {
                id: string;
                name: string;
            };
            edge: "*" | {
                id: string;
                name: string;
            };
            ports: {
                from: number;
                to: number;
            };
            protocols: ("tcp" | "udp")[];
            /** Format: date-time */
            createdAt: string;
        };
        GrantBody: {
            /** @description the user name */
            user: string;
            /** @description an edge id or name, or `*` for every edge */
            edge: string;
            /** @description the listen ports from..to, both included */
            ports: {
                from: number;
                to: number;
            };
            protocols: ("tcp" | "udp")[];
        };
        GrantList: {
            grants: components["schemas"]["Grant"][];
        };
        Health: {
            /** @constant */
            ok: true;
        };
        /** @description an [owners.NAME] limits table of the standalone config, as JSON: bandwidth, bandwidth_in, bandwidth_out, burst, new_connections_per_sec, new_connections_burst, max_connections (docs/config.md) */
        LimitsTable: {
            [key: string]: unknown;
        };
        Login: {
            user: string;
            password: string;
        };
        OwnerLimits: {
            edge: components["schemas"]["EdgeRef"];
            owner: string;
            limits: components["schemas"]["LimitsTable"];
            /** Format: date-time */
            updatedAt: string;
        };
        OwnerLimitsBody: {
            limits: components["schemas"]["LimitsTable"];
        };
        PushRule: {
            /** @description an edge id or name */
            edge: string;
            rule: components["schemas"]["RuleTable"];
            /** @description admins only; default: the token's user */
            owner?: string;
        };
        Quota: {
            user: {
                id: string;
                name: string;
            };
            edge: components["schemas"]["EdgeRef"];
            monthlyBytes: number;
            /** Format: date-time */
            periodAnchor: string;
            /** Format: date-time */
            periodStart: string;
            /** Format: date-time */
            periodEnd: string;
            usedBytes: number;
            remainingBytes: number;
            exhaustedAt: string | null;
        };
        QuotaBody: {
            /** @description bytes in + out the user may move on the edge per period */
            monthlyBytes: number;
            /**
             * Format: date-time
             * @description periods start on this day of the month at this time (UTC); default: the first of the current month, 00:00 UTC
             */
            periodAnchor?: string;
        };
        QuotaList: {
            quotas: components["schemas"]["Quota"][];
        };
        Ready: {
            /** @constant */
            ready: true;
        };
        RenameEdge: {
            /**
             * @description 1-253 letters, digits, "_", "." or "-", starting with a letter or digit; not of the form e_ and 12 hex digits
             * @example edge-01
             */
            name: string;
        };
        ResetPassword: {
            temporaryPassword: string;
        };
        RevokedGrant: {
            grant: components["schemas"]["Grant"];
            /** @description the rules no other grant of the user covers, drained and removed */
            removed: components["schemas"]["Rule"][];
        };
        Rule: {
            id: string;
            edge: components["schemas"]["EdgeRef"];
            owner: string;
            name: string;
            revision: number;
            /** @enum {string} */
            state: "pending" | "active" | "failed" | "removed";
            /** @description failed: the reason code the edge gave */
            reason: string | null;
            message: string | null;
            rule: components["schemas"]["RuleTable"];
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
        };
        RuleList: {
            rules: components["schemas"]["Rule"][];
        };
        RuleStats: {
            /** @description the rule id */
            rule: string;
            /** @description when the edge last reported the rule: its reports name a rule when its counts moved, and once more after they stopped; null (and all zeros) until a report mentions the rule */
            at: string | null;
            /** @description client to target, since the rule was created */
            bytesIn: number;
            /** @description target to client, since the rule was created */
            bytesOut: number;
            connectionsTotal: number;
            activeConnections: number;
            rejected: number;
            /** @description rejected by reason (the edge metric sluice_rule_rejected_total{reason}), since the rule was created; reasons never seen are left out */
            rejectedByReason: {
                [key: string]: number;
            };
            connectErrors: number;
            /** @description over the last stats interval in which the rule was reported */
            bytesInPerSec: number;
            /** @description over the last stats interval in which the rule was reported */
            bytesOutPerSec: number;
        };
        /** @description a [[rules]] table of the standalone config, as JSON (docs/config.md) */
        RuleTable: {
            [key: string]: unknown;
        };
        Traffic: {
            /** @enum {string} */
            bucket: "1m" | "1h";
            /**
             * Format: date-time
             * @description the start, a bucket start
             */
            from: string;
            /**
             * Format: date-time
             * @description the end, excluded
             */
            to: string;
            /** @description oldest first; only buckets with traffic, each summed over the matching rules */
            samples: components["schemas"]["TrafficSample"][];
            /** @description the sum of the samples */
            totals: {
                bytesIn: number;
                bytesOut: number;
            };
        };
        TrafficSample: {
            /**
             * Format: date-time
             * @description the bucket start
             */
            at: string;
            /** @description client to target, in the bucket */
            bytesIn: number;
            /** @description target to client, in the bucket */
            bytesOut: number;
        };
        UpdateRule: {
            rule: components["schemas"]["RuleTable"];
        };
        UpdateUser: {
            displayName?: string;
            disabled?: boolean;
        };
        User: {
            id: string;
            name: string;
            displayName: string;
            /** @enum {string} */
            role: "admin" | "user";
            /** @description a disabled user is refused with every token and session */
            disabled: boolean;
            hasPassword: boolean;
            /** @description set by an admin reset: the next session may only change the password */
            mustChangePassword: boolean;
            /** Format: date-time */
            createdAt: string;
        };
        UserList: {
            users: components["schemas"]["User"][];
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    health: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the server is up */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    ready: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the database answered */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Ready"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `store_unavailable`: the server cannot reach its database now; retry once it is back */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    openapi: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the OpenAPI 3.1 document of this API */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createEnrollment: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateEnrollment"];
            };
        };
        responses: {
            /** @description the code, its URI and the command to run on the edge */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Enrollment"];
                };
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listEdges: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description every edge */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EdgeList"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getEdge: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description an edge id (e_...) or its name */
                edge: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the edge */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Edge"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteEdge: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description an edge id (e_...) or its name */
                edge: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    renameEdge: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description an edge id (e_...) or its name */
                edge: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RenameEdge"];
            };
        };
        responses: {
            /** @description the renamed edge */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Edge"];
                };
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `name_taken`: an edge or rule name already used on that edge */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    revokeEdge: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description an edge id (e_...) or its name */
                edge: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the revoked edge */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Edge"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listRules: {
        parameters: {
            query?: {
                /** @description only the rules of this edge (id or name) */
                edge?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the rules */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RuleList"];
                };
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    pushRule: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PushRule"];
            };
        };
        responses: {
            /** @description the rule, active on the edge */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Rule"];
                };
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else; `not_granted`: outside every grant of the user; the message names what failed: edge, port or protocol */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `port_in_use`: the rule overlaps another rule of the same edge; `name_taken`: an edge or rule name already used on that edge; `edge_revoked`: pushing to a revoked edge; `tenant_limit`: the owner holds as many rules or listen ports on that edge as a user may (server config) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `client_not_connected`: the edge has no control session now; `activation_failed`: the edge reported the rule failed */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `ack_timeout`: the edge did not ack in time; the rule stays pending and is pushed again on reconnect */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getRule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a rule id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the rule */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Rule"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    updateRule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a rule id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateRule"];
            };
        };
        responses: {
            /** @description the rule, active at its new revision */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Rule"];
                };
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else; `not_granted`: outside every grant of the user; the message names what failed: edge, port or protocol */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `port_in_use`: the rule overlaps another rule of the same edge; `name_taken`: an edge or rule name already used on that edge; `edge_revoked`: pushing to a revoked edge; `tenant_limit`: the owner holds as many rules or listen ports on that edge as a user may (server config) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `client_not_connected`: the edge has no control session now; `activation_failed`: the edge reported the rule failed */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `ack_timeout`: the edge did not ack in time; the rule stays pending and is pushed again on reconnect */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    removeRule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a rule id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the rule, removed */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Rule"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `ack_timeout`: the edge did not ack in time; the rule stays pending and is pushed again on reconnect */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getRuleStats: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a rule id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the rule's stats */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RuleStats"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    streamStats: {
        parameters: {
            query?: {
                /** @description only this rule's events */
                rule?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description text/event-stream; each `event: stats` has a RuleStats object as its data */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": string;
                };
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listAudit: {
        parameters: {
            query?: {
                /** @description how many entries, newest first */
                limit?: number;
                /** @description only the entries of this user name */
                user?: string;
                /** @description only this action, e.g. rule.push or auth.login */
                action?: string;
                /** @description only entries at or after this time */
                since?: string;
                /** @description only entries before this time */
                until?: string;
                /** @description the next page: entries older than this id (the `next` of the page before) */
                before?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the newest entries */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditList"];
                };
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    login: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["Login"];
            };
        };
        responses: {
            /** @description the user now logged in */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `rate_limited`: too many failed logins for this user from this address; Retry-After says when to try again */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    logout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description logged out */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listUsers: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description every user */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserList"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createUser: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateUser"];
            };
        };
        responses: {
            /** @description the new user */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `name_taken`: an edge or rule name already used on that edge */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a user id (u_...), a user name, or "me" */
                user: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the user */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a user id (u_...), a user name, or "me" */
                user: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the user and what went with them */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeletedUser"];
                };
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    updateUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a user id (u_...), a user name, or "me" */
                user: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateUser"];
            };
        };
        responses: {
            /** @description the user as changed */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    changePassword: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ChangePassword"];
            };
        };
        responses: {
            /** @description changed; other sessions of the user end */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    resetPassword: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a user id (u_...), a user name, or "me" */
                user: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ResetPassword"];
            };
        };
        responses: {
            /** @description set; the user's sessions end */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listTokens: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a user id (u_...), a user name, or "me" */
                user: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the tokens, without their secrets */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApiTokenList"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a user id (u_...), a user name, or "me" */
                user: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateToken"];
            };
        };
        responses: {
            /** @description the token, with its secret */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedToken"];
                };
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    revokeToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a user id (u_...), a user name, or "me" */
                user: string;
                token: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the token, revoked */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApiToken"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listGrants: {
        parameters: {
            query?: {
                /** @description only the grants of this user (name) */
                user?: string;
                /** @description only the grants on this edge (id or name), `*` included */
                edge?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the grants */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["GrantList"];
                };
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createGrant: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["GrantBody"];
            };
        };
        responses: {
            /** @description the grant */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Grant"];
                };
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    revokeGrant: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a grant id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the grant and the rules removed with it */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RevokedGrant"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `ack_timeout`: the edge did not ack in time; the rule stays pending and is pushed again on reconnect */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getOwnerLimits: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description an edge id (e_...) or its name */
                edge: string;
                /** @description the owner (a user's name) */
                owner: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the caps */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OwnerLimits"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    setOwnerLimits: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description an edge id (e_...) or its name */
                edge: string;
                /** @description the owner (a user's name) */
                owner: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["OwnerLimitsBody"];
            };
        };
        responses: {
            /** @description the caps, stored (the edge has them once it acks or reconnects) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OwnerLimits"];
                };
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `ack_timeout`: the edge did not ack in time; the rule stays pending and is pushed again on reconnect */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteOwnerLimits: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description an edge id (e_...) or its name */
                edge: string;
                /** @description the owner (a user's name) */
                owner: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description removed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `ack_timeout`: the edge did not ack in time; the rule stays pending and is pushed again on reconnect */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listQuotas: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a user id (u_...), a user name, or "me" */
                user: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the quotas, with the usage of the current period */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["QuotaList"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getQuota: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a user id (u_...), a user name, or "me" */
                user: string;
                /** @description an edge id (e_...) or its name */
                edge: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the quota */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Quota"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    setQuota: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a user id (u_...), a user name, or "me" */
                user: string;
                /** @description an edge id (e_...) or its name */
                edge: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["QuotaBody"];
            };
        };
        responses: {
            /** @description the quota, stored (the edge enforces it once it acks or reconnects) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Quota"];
                };
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `ack_timeout`: the edge did not ack in time; the rule stays pending and is pushed again on reconnect */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteQuota: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a user id (u_...), a user name, or "me" */
                user: string;
                /** @description an edge id (e_...) or its name */
                edge: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description removed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `ack_timeout`: the edge did not ack in time; the rule stays pending and is pushed again on reconnect */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    clearQuota: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a user id (u_...), a user name, or "me" */
                user: string;
                /** @description an edge id (e_...) or its name */
                edge: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the quota, cleared */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Quota"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `csrf_failed`: a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `ack_timeout`: the edge did not ack in time; the rule stays pending and is pushed again on reconnect */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getTraffic: {
        parameters: {
            query?: {
                /** @description only this rule (an id) */
                rule?: string;
                /** @description only this edge's rules (an id or name) */
                edge?: string;
                /** @description only this user's rules (a user name) */
                user?: string;
                /** @description the start, rounded down to a bucket start (default: 24 h before `to` for 1m, 30 days for 1h) */
                from?: string;
                /** @description the end, excluded (default: now) */
                to?: string;
                /** @description the bucket width: 1m (kept 7 days) or 1h (kept 400 days) */
                bucket?: "1m" | "1h";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the buckets with traffic, and their totals */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Traffic"];
                };
            };
            /** @description `bad_request`: the request did not validate; the message names the field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `unauthorized`: no token, or an unknown / revoked token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `forbidden`: the token's user may not do this; `password_change_required`: the password was reset: change it (PUT /v1/users/me/password) before anything else */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `not_found`: no such edge / rule / route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `internal`: a bug in the server */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
}
