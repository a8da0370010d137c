// /v1/users, their API tokens, and /v1/auth: who may use the API, and how they prove it.

import { z } from 'zod';
import { timestampSchema } from './timestamps.ts';

/** A user's name: also the `owner` their rules carry. */
export const userNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
  error: 'use 1-64 letters, digits, "_", "." or "-", starting with a letter or digit',
});

/** At least 12 characters (OWASP's floor for a password without other rules); at most 1024. */
export const PASSWORD_MIN_LENGTH = 12;
export const passwordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, { error: `at least ${PASSWORD_MIN_LENGTH} characters` })
  .max(1024);

export const roleSchema = z.enum(['admin', 'user']);

/** `:user` in a path: a user id, a name, or `me` for the caller. */
export const userParamsSchema = z.object({
  user: z.string().min(1).meta({ description: 'a user id (u_...), a user name, or "me"' }),
});
export type UserParams = z.infer<typeof userParamsSchema>;

export const userSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    displayName: z.string(),
    role: roleSchema,
    disabled: z.boolean().meta({ description: 'a disabled user is refused with every token and session' }),
    hasPassword: z.boolean(),
    mustChangePassword: z
      .boolean()
      .meta({ description: 'set by an admin reset: the next session may only change the password' }),
    createdAt: timestampSchema,
  })
  .meta({ id: 'User' });
export type User = z.infer<typeof userSchema>;

export const userListSchema = z.object({ users: z.array(userSchema) }).meta({ id: 'UserList' });
export type UserList = z.infer<typeof userListSchema>;

export const createUserBodySchema = z
  .object({
    name: userNameSchema,
    displayName: z.string().min(1).max(128).optional().meta({ description: 'default: the name' }),
    role: roleSchema.default('user'),
    password: passwordSchema.optional().meta({ description: 'none: the user logs in with tokens only' }),
  })
  .strict()
  .meta({ id: 'CreateUser' });
export type CreateUserBody = z.infer<typeof createUserBodySchema>;

export const updateUserBodySchema = z
  .object({
    displayName: z.string().min(1).max(128).optional(),
    disabled: z.boolean().optional(),
  })
  .strict()
  .meta({ id: 'UpdateUser' });
export type UpdateUserBody = z.infer<typeof updateUserBodySchema>;

/** What deleting a user took with it. */
export const deletedUserSchema = z
  .object({
    user: userSchema,
    rules: z.array(z.string()).meta({ description: 'ids of the rules removed (drained from their edges)' }),
    tokens: z.int().min(0),
    sessions: z.int().min(0),
  })
  .meta({ id: 'DeletedUser' });
export type DeletedUser = z.infer<typeof deletedUserSchema>;

/** The caller changes their own password. */
export const changePasswordBodySchema = z
  .object({ currentPassword: z.string().max(1024), newPassword: passwordSchema })
  .strict()
  .meta({ id: 'ChangePassword' });
export type ChangePasswordBody = z.infer<typeof changePasswordBodySchema>;

/** An admin sets a temporary password, which must be changed at the next login. */
export const resetPasswordBodySchema = z
  .object({ temporaryPassword: passwordSchema })
  .strict()
  .meta({ id: 'ResetPassword' });
export type ResetPasswordBody = z.infer<typeof resetPasswordBodySchema>;

export const tokenParamsSchema = userParamsSchema.extend({ token: z.string().min(1) });
export type TokenParams = z.infer<typeof tokenParamsSchema>;

export const apiTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    createdAt: timestampSchema,
    lastUsedAt: timestampSchema.nullable(),
    revoked: z.boolean(),
  })
  .meta({ id: 'ApiToken' });
export type ApiToken = z.infer<typeof apiTokenSchema>;

export const apiTokenListSchema = z.object({ tokens: z.array(apiTokenSchema) }).meta({ id: 'ApiTokenList' });
export type ApiTokenList = z.infer<typeof apiTokenListSchema>;

export const createTokenBodySchema = z
  .object({ name: z.string().min(1).max(64) })
  .strict()
  .meta({ id: 'CreateToken' });
export type CreateTokenBody = z.infer<typeof createTokenBodySchema>;

/** A new token: the secret is in this answer only. */
export const createdTokenSchema = apiTokenSchema
  .extend({ token: z.string().meta({ description: 'shown once; only its hash is kept' }) })
  .meta({ id: 'CreatedToken' });
export type CreatedToken = z.infer<typeof createdTokenSchema>;

export const loginBodySchema = z
  .object({ user: z.string().min(1).max(64), password: z.string().min(1).max(1024) })
  .strict()
  .meta({ id: 'Login' });
export type LoginBody = z.infer<typeof loginBodySchema>;

/** The session cookie's name; a cookie-authenticated write also carries CSRF_HEADER: 1. */
export const SESSION_COOKIE = 'sluice_session';
export const CSRF_HEADER = 'x-sluice-csrf';
