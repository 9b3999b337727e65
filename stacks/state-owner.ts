// The guard against the wrong state (docs/environments.md): a `terraform_data` resource that records which
// environment owns this state. A plan with another environment's config against this state would replace it
// (`triggers_replace` changes), and `prevent_destroy` makes Terraform stop that plan with an error before it
// changes anything. With the `Environment` default tag and the `environment` output, every resource and the
// outputs say whose they are.
import { Construct } from 'constructs';
import { DataResource } from 'cdktf';
import { PropsError } from './util';

export interface StateOwnerProps {
  /** the config's `environment` */
  readonly environment: string;
}

export class StateOwner extends Construct {
  /** Terraform resource address of the guard, for docs and tests */
  static readonly ADDRESS = 'terraform_data.state_owner';
  readonly resource: DataResource;

  constructor(scope: Construct, id: string, props: StateOwnerProps) {
    super(scope, id);
    if (!props.environment) throw new PropsError('StateOwner', 'environment must be a non-empty string');
    const owner = { environment: props.environment };
    this.resource = new DataResource(this, 'state_owner', { input: owner, triggersReplace: owner, lifecycle: { preventDestroy: true } });
    // a stable address that does not depend on this construct's place in the tree
    this.resource.overrideLogicalId('state_owner');
  }
}
