// The permissions boundary of the foundation's roles, when the config has a `ci` section. The deploy role may
// create and change `<prefix>-*` roles and their policies; without a boundary it could give such a role any
// permission and pass it to EC2 or ECS. With it, every role the foundation creates carries this boundary, the
// deploy role may write a `<prefix>-*` role or its policies only when the role has exactly this boundary, may not
// remove it, and may not touch the boundary policy (it lives under the CI path, which the deploy role never
// reaches). The boundary allows the actions of the foundation's own role policies and nothing else: it is derived
// from the synthesized foundation at synth, so widening what a foundation role may do takes the admin's
// `cdktf deploy ci-access` (docs/ci.md).
import { IAspect, Token } from 'cdktf';
import { IConstruct } from 'constructs';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { allow, arn, ArnEnv, policy, PolicyDocument } from './policy';
import { CI_PATH, ResourceNames } from './names';

/** ARN of the boundary policy, from the config's names (both stacks build it; no reference between them). */
export function boundaryPolicyArn(env: ArnEnv, names: ResourceNames): string {
  return arn(env, 'iam', `policy${CI_PATH}${names.ciBoundaryPolicy}`, { region: '' });
}

/**
 * The actions the foundation's role policies allow: every Allow statement of its IAM policy documents that name
 * no principal (trust, key and file-system policies name one), sorted.
 */
export function foundationRoleActions(foundation: IConstruct): string[] {
  const actions = new Set<string>();
  for (const node of foundation.node.findAll()) {
    if (!(node instanceof DataAwsIamPolicyDocument)) continue;
    const statements = node.statementInput;
    if (!Array.isArray(statements)) throw new Error(`${node.node.path}: policy statements are not plain data`);
    for (const st of statements) {
      if (st.principals || st.notPrincipals || (st.effect ?? 'Allow') !== 'Allow') continue;
      for (const a of st.actions ?? []) {
        if (Token.isUnresolved(a)) throw new Error(`${node.node.path}: an action is a Terraform reference`);
        actions.add(a);
      }
      if (st.notActions?.length) throw new Error(`${node.node.path}: NotAction cannot be bounded`);
    }
  }
  return [...actions].sort();
}

/** The boundary document: the foundation roles' actions, on any resource (their own policies name resources). */
export function boundaryPolicy(actions: string[]): PolicyDocument {
  return policy([allow('WhatTheFoundationRolesMayDo', actions, ['*'])]);
}

/** Aspect: every IAM role in the scope gets the boundary. */
export class PermissionsBoundary implements IAspect {
  constructor(readonly policyArn: string) {}

  visit(node: IConstruct): void {
    if (node instanceof IamRole) node.permissionsBoundary = this.policyArn;
  }
}

/** The deploy role's boundary statements for `<prefix>-*` roles (used by foundation-policies.ts). */
export function boundedRoleStatements(env: ArnEnv, names: ResourceNames) {
  const role = arn(env, 'iam', `role/${names.iamPrefix}*`, { region: '' });
  const boundary = { StringEquals: { 'iam:PermissionsBoundary': boundaryPolicyArn(env, names) } };
  return {
    /** writes that set or change what a role may do: only with the boundary on the role */
    withBoundary: allow('FoundationRolesWithBoundaryOnly', [
      'iam:CreateRole', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:UpdateAssumeRolePolicy', 'iam:PutRolePermissionsBoundary',
    ], [role], boundary),
    /** never lift it */
    keep: { Sid: 'NeverLiftTheBoundary', Effect: 'Deny' as const, Action: ['iam:DeleteRolePermissionsBoundary'], Resource: [role] },
  };
}
