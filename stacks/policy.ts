// IAM policy documents as plain JSON (what AWS evaluates), and the ARN builders the ci-access policies share.
// Values may hold Terraform references (the account id, the partition): they stay inside the strings, so the
// synthesized policy is the exact document AWS gets, and tests read it from the synthesized JSON.

export type ConditionBlock = Record<string, Record<string, string | string[]>>;

export interface Statement {
  readonly Sid: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string[];
  readonly Resource: string[];
  readonly Condition?: ConditionBlock;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: Statement[];
}

export function policy(statements: Statement[]): PolicyDocument {
  const sids = new Set<string>();
  for (const s of statements) {
    if (sids.has(s.Sid)) throw new Error(`duplicate statement id ${s.Sid}`);
    sids.add(s.Sid);
    if (s.Action.length === 0 || s.Resource.length === 0) throw new Error(`statement ${s.Sid} has no action or no resource`);
  }
  return { Version: '2012-10-17', Statement: statements };
}

export function allow(Sid: string, Action: string[], Resource: string[], Condition?: ConditionBlock): Statement {
  return { Sid, Effect: 'Allow', Action: [...new Set(Action)], Resource: [...new Set(Resource)], ...(Condition ? { Condition } : {}) };
}

/** Where ARNs point: partition, region and account (Terraform references in the stack, literals in tests). */
export interface ArnEnv {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

/** `arn:<partition>:<service>:<region>:<account>:<rest>` (region '' for global services like IAM and S3) */
export function arn(env: ArnEnv, service: string, rest: string, opts: { region?: string; account?: string } = {}): string {
  return `arn:${env.partition}:${service}:${opts.region ?? env.region}:${opts.account ?? env.accountId}:${rest}`;
}

/** IAM's size limit of one customer managed policy (characters, whitespace not counted). */
export const MANAGED_POLICY_MAX_CHARS = 6144;
/** Managed policies IAM lets one role have attached (the default quota). */
export const ATTACHED_POLICIES_MAX = 10;

/**
 * The Terraform references a CI policy holds (the account id and the partition), each with the longest text it can
 * stand for: as synthesized (`${data...}`) by default; the stack passes its own token strings.
 */
export function referenceLengths(env: Pick<ArnEnv, 'accountId' | 'partition'>): Record<string, number> {
  return { [env.accountId]: 12 /* an account id */, [env.partition]: 10 /* "aws-us-gov" */ };
}
export const SYNTHESIZED_REFERENCES = referenceLengths({
  accountId: '${data.aws_caller_identity.caller.account_id}',
  partition: '${data.aws_partition.partition.partition}',
});

/** Size of a policy document (or statement) as IAM counts it, at the longest its references can become. */
export function worstCaseSize(doc: PolicyDocument | Statement, references: Readonly<Record<string, number>> = SYNTHESIZED_REFERENCES): number {
  let text = JSON.stringify(doc).replace(/\s/g, '');
  for (const [ref, len] of Object.entries(references)) text = text.split(ref).join('x'.repeat(len));
  const unknown = /\$\{[^}]*\}/.exec(text);
  if (unknown) throw new Error(`policy holds a reference whose size is unknown: ${unknown[0]}`);
  return text.length;
}

/**
 * A policy as managed policies of at most `max` characters each: statements in order, packed greedily; a statement
 * too large on its own is cut into parts by its resources (Sid `<Sid>Part<n>`), which allow the same together.
 */
export function splitPolicy(
  doc: PolicyDocument,
  opts: { max?: number; references?: Readonly<Record<string, number>> } = {},
): PolicyDocument[] {
  const max = opts.max ?? MANAGED_POLICY_MAX_CHARS;
  const size = (x: PolicyDocument | Statement) => worstCaseSize(x, opts.references);
  const envelope = size(policy([]));
  const parts: Statement[] = [];
  const cut = (st: Statement, base: string, n: { i: number }): void => {
    if (envelope + size(st) <= max) {
      parts.push(st);
      return;
    }
    if (st.Resource.length < 2) throw new Error(`statement ${base} alone is over IAM's ${max} characters`);
    const half = Math.ceil(st.Resource.length / 2);
    for (const Resource of [st.Resource.slice(0, half), st.Resource.slice(half)]) cut({ ...st, Resource, Sid: `${base}Part${(n.i += 1)}` }, base, n);
  };
  for (const st of doc.Statement) cut(st, st.Sid, { i: 0 });
  const docs: Statement[][] = [[]];
  for (const st of parts) {
    const current = docs[docs.length - 1];
    if (current.length && size(policy([...current, st])) > max) docs.push([st]);
    else current.push(st);
  }
  return docs.map((s) => policy(s));
}
