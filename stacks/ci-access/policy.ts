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
