import { RefusedError } from "#core/errors.ts";

/**
 * Who is asking. Through the function URL (AWS_IAM auth) Lambda hands the handler the
 * caller's IAM identity, which the caller cannot forge: that is what records are owned by.
 * A direct Invoke carries no identity; no Ferry policy grants it, so it comes from an
 * operator with the account's own powers, and ownership checks do not apply to it.
 */
export type Caller =
  | {
      kind: "principal";
      /** The caller's ARN (for a role: `arn:aws:sts::<account>:assumed-role/<role>/<session>`). */
      arn: string;
      /** `aws:userid` of the caller: what IAM policy conditions can compare with. */
      userId: string;
    }
  | { kind: "operator" };

export const OPERATOR: Caller = { kind: "operator" };

/** The owner to record for something this caller creates (none for an operator). */
export function ownerOf(caller: Caller): { owner?: string } {
  return caller.kind === "principal" ? { owner: caller.arn } : {};
}

/**
 * Refuse unless the caller owns the record. Records made before owners were kept have none:
 * anyone may act on them, as before.
 */
export function requireOwner(
  owner: string | undefined,
  caller: Caller,
  what: string,
  action: string,
): void {
  if (caller.kind === "operator" || owner === undefined || owner === caller.arn) return;
  throw new RefusedError(
    `${what} belongs to ${owner}; you are ${caller.arn}: only its owner may ${action}`,
    { hint: "ask its owner, or an operator of the deployment" },
  );
}
