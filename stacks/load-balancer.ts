// Load balancer: internet-facing ALB in the public subnets, one IP target group per enabled web service with
// staging-fast health checks and a short deregistration delay, listener rules from each service's routing.
// With a certificate: HTTP redirects to HTTPS and the rules sit on the HTTPS listener. Without one (a staging
// config with no domain) the HTTP listener forwards in plain HTTP.
import { Construct } from 'constructs';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { LbListener, LbListenerDefaultAction } from '@cdktf/provider-aws/lib/lb-listener';
import { LbListenerRule, LbListenerRuleCondition } from '@cdktf/provider-aws/lib/lb-listener-rule';
import type { Config, Service } from '../lib/config/index.cjs';
import { PropsError, StackEnv } from './util';
import { ResourceNames } from './names';

export interface LoadBalancerProps {
  readonly env: StackEnv;
  readonly vpcId: string;
  readonly subnetIds: string[];
  readonly securityGroupId: string;
  /** enabled web services */
  readonly services: Service[];
  /** config `loadBalancer` */
  readonly settings: Config['loadBalancer'];
}

export class LoadBalancer extends Construct {
  readonly alb: Lb;
  /** service name -> target group */
  readonly targetGroups: Record<string, LbTargetGroup> = {};
  /** HTTP listener (redirect with a certificate, forwarding without) */
  readonly httpListener: LbListener;
  /** HTTPS listener, only with a certificate */
  readonly httpsListener?: LbListener;
  /** the listener that carries the routing rules */
  readonly routingListener: LbListener;
  readonly rules: Record<string, LbListenerRule> = {};
  /** `https://host` with a certificate, else `http://host` */
  readonly url: string;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    const { settings } = props;
    const { prefix } = props.env;
    if (props.subnetIds.length < 2) throw new PropsError('LoadBalancer', `an ALB needs subnets in at least 2 AZs, got ${props.subnetIds.length}`);
    for (const s of props.services) {
      if (s.kind !== 'web' || !s.enabled || s.port === null || s.routing === null) throw new PropsError('LoadBalancer', `service ${s.name} is not an enabled web service`);
    }
    this.alb = new Lb(this, 'alb', {
      name: new ResourceNames(prefix).loadBalancer,
      internal: false,
      loadBalancerType: 'application',
      securityGroups: [props.securityGroupId],
      subnets: props.subnetIds,
      dropInvalidHeaderFields: true,
      enableDeletionProtection: false,
      idleTimeout: 60,
    });
    const hc = settings.healthCheck;
    for (const s of props.services) {
      this.targetGroups[s.name] = new LbTargetGroup(this, `target-group-${s.name}`, {
        name: new ResourceNames(prefix).targetGroup(s.name),
        port: s.port!,
        protocol: 'HTTP',
        targetType: 'ip',
        vpcId: props.vpcId,
        deregistrationDelay: String(settings.deregistrationDelaySeconds),
        healthCheck: {
          enabled: true,
          path: s.healthCheckPath!,
          protocol: 'HTTP',
          port: 'traffic-port',
          interval: hc.intervalSeconds,
          timeout: hc.timeoutSeconds,
          healthyThreshold: hc.healthyThreshold,
          unhealthyThreshold: hc.unhealthyThreshold,
          matcher: hc.matcher,
        },
      });
    }
    const fallback = props.services.find((s) => s.routing!.default);
    const defaultAction: LbListenerDefaultAction = fallback
      ? { type: 'forward', targetGroupArn: this.targetGroups[fallback.name].arn }
      : { type: 'fixed-response', fixedResponse: { contentType: 'text/plain', statusCode: '404', messageBody: 'not found' } };

    if (settings.certificateArn) {
      this.httpListener = new LbListener(this, 'http', {
        loadBalancerArn: this.alb.arn,
        port: 80,
        protocol: 'HTTP',
        defaultAction: [{ type: 'redirect', redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } }],
      });
      this.httpsListener = new LbListener(this, 'https', {
        loadBalancerArn: this.alb.arn,
        port: 443,
        protocol: 'HTTPS',
        sslPolicy: settings.sslPolicy,
        certificateArn: settings.certificateArn,
        defaultAction: [defaultAction],
      });
      this.routingListener = this.httpsListener;
      this.url = `https://${this.alb.dnsName}`;
    } else {
      this.httpListener = new LbListener(this, 'http', {
        loadBalancerArn: this.alb.arn,
        port: 80,
        protocol: 'HTTP',
        defaultAction: [defaultAction],
      });
      this.routingListener = this.httpListener;
      this.url = `http://${this.alb.dnsName}`;
    }

    for (const s of props.services) {
      const r = s.routing!;
      if (r.default) continue;
      const condition: LbListenerRuleCondition[] = [];
      if (r.pathPatterns.length > 0) condition.push({ pathPattern: { values: r.pathPatterns } });
      if (r.hostHeader) condition.push({ hostHeader: { values: [r.hostHeader] } });
      this.rules[s.name] = new LbListenerRule(this, `rule-${s.name}`, {
        listenerArn: this.routingListener.arn,
        priority: r.priority!,
        action: [{ type: 'forward', targetGroupArn: this.targetGroups[s.name].arn }],
        condition,
      });
    }
  }
}
