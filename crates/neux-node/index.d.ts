/** A value the signing rule renders the same way everywhere. `undefined` properties are left out. */
export type ParamValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | undefined
  | ReadonlyArray<string | number | bigint>;

/** A map's own enumerable string keys are signed, as `JSON.stringify` sends them (not inherited ones). */
export type Params = Readonly<Record<string, ParamValue>>;

/**
 * What the functions throw for a value they will not sign or use. `code` is one of
 * `ERR_NEUX_UNSUPPORTED_VALUE` (with `key`, and `kind`: `float`, `integer_out_of_range`,
 * `unsafe_integer`, `object`, `nested_list`, `null_in_list`, `bool_in_list`),
 * `ERR_NEUX_RESERVED_KEY` (the key `secret`), `ERR_NEUX_INVALID_INPUT` (a secret, client id,
 * code, scope, dialect or timestamp), `ERR_NEUX_INVALID_TYPE` (a value of another type).
 */
export interface NeuxError extends Error {
  code:
    | 'ERR_NEUX_UNSUPPORTED_VALUE'
    | 'ERR_NEUX_RESERVED_KEY'
    | 'ERR_NEUX_INVALID_PARAMS'
    | 'ERR_NEUX_INVALID_INPUT'
    | 'ERR_NEUX_INVALID_TYPE';
  key?: string;
  kind?: string;
}

/** The signature of `params` with the app secret: 64 lowercase hex digits. */
export function sign(params: Params, secret: string): string;

/** The canonical string: the secret as `[REDACTED]` unless `maskSecret` is false and `secret` given. */
export function canonical(params: Params, maskSecret?: boolean, secret?: string): string;

/** Whether `signature` signs `params` with the secret, compared in constant time. */
export function verify(params: Params, secret: string, signature: string): boolean;

/** The signed body of the code-for-token call, `sign` last. */
export function tokenRequest(
  clientId: string,
  code: string,
  scope: string,
  timestamp: number,
  dialect: 'json' | 'form' | undefined,
  secret: string,
): Record<string, string | number>;

/** The byte offset where two canonical strings first differ, or null when they are equal. */
export function firstDifference(ours: string, theirs: string): number | null;

/** What stands for the secret in a masked canonical string. */
export const SECRET_MASK: '[REDACTED]';
