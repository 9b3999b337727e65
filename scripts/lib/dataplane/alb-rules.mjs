// The local ALB's listener rules: conditions as ALB matches them (path-pattern case-sensitive with `*` and `?`
// on the path without the query; host-header case-insensitive, port dropped; http-request-method; http-header),
// the action that answers (forward, fixed-response, redirect), and the target group a forward picks (weighted
// ForwardConfig in proportion to the weights).
/**
 * @typedef {import('@aws-sdk/client-elastic-load-balancing-v2').Action} Action
 * @typedef {import('@aws-sdk/client-elastic-load-balancing-v2').RuleCondition} RuleCondition
 * @typedef {{ path: string, host: string, method: string, headers: import('node:http').IncomingHttpHeaders }} RequestFacts
 */

/**
 * An ALB wildcard pattern (`*` any characters, `?` one) as an anchored regular expression.
 * @param {string} pattern @param {boolean} caseInsensitive
 */
export function wildcard(pattern, caseInsensitive) {
  const body = [...pattern].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, caseInsensitive ? 'is' : 's');
}

/** @param {RuleCondition} c @returns {string[]} */
const valuesOf = (c) => {
  switch (c.Field) {
    case 'path-pattern': return c.PathPatternConfig?.Values ?? c.Values ?? [];
    case 'host-header': return c.HostHeaderConfig?.Values ?? c.Values ?? [];
    case 'http-request-method': return c.HttpRequestMethodConfig?.Values ?? c.Values ?? [];
    case 'http-header': return c.HttpHeaderConfig?.Values ?? c.Values ?? [];
    default: return c.Values ?? [];
  }
};

/**
 * A rule's conditions as one predicate over a request (conditions AND, values of one condition OR).
 * @param {RuleCondition[]} conditions @param {string} where names the rule in an error
 * @returns {(r: RequestFacts) => boolean}
 */
export function compileConditions(conditions, where) {
  const tests = conditions.map((c) => {
    const values = valuesOf(c);
    if (c.Field === 'path-pattern') {
      const res = values.map((v) => wildcard(v, false));
      return (/** @type {any} */ r) => res.some((re) => re.test(r.path));
    }
    if (c.Field === 'host-header') {
      const res = values.map((v) => wildcard(v, true));
      return (/** @type {any} */ r) => res.some((re) => re.test(r.host));
    }
    if (c.Field === 'http-request-method') return (/** @type {any} */ r) => values.includes(r.method);
    if (c.Field === 'http-header') {
      const name = String(c.HttpHeaderConfig?.HttpHeaderName ?? '').toLowerCase();
      const res = values.map((v) => wildcard(v, true));
      return (/** @type {any} */ r) => {
        const got = r.headers[name];
        return got !== undefined && [got].flat().some((g) => res.some((re) => re.test(String(g))));
      };
    }
    throw new Error(`local ALB: ${where}: condition field "${c.Field}" is not served locally (served: path-pattern, host-header, http-request-method, http-header)`);
  });
  return (r) => tests.every((t) => t(r));
}

/** The action that answers (ALB runs them by Order; authenticate-* are not served). @param {Action[]} actions @param {string} where */

export function finalAction(actions, where) {
  const sorted = [...actions].sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0));
  const unsupported = sorted.find((a) => !['forward', 'fixed-response', 'redirect'].includes(String(a.Type)));
  if (unsupported) throw new Error(`local ALB: ${where}: action type "${unsupported.Type}" is not served locally (served: forward, fixed-response, redirect)`);
  const last = sorted[sorted.length - 1];
  if (!last) throw new Error(`local ALB: ${where} has no action`);
  return last;
}

/** Target group ARNs an action forwards to, with weights. @param {Action} a @returns {{ arn: string, weight: number }[]} */
export const forwardsTo = (a) => {
  if (a.Type !== 'forward') return [];
  if (a.TargetGroupArn) return [{ arn: a.TargetGroupArn, weight: 1 }];
  return (a.ForwardConfig?.TargetGroups ?? []).filter((t) => t.TargetGroupArn).map((t) => ({ arn: String(t.TargetGroupArn), weight: t.Weight ?? 1 }));
};

/**
 * The target group a forward action sends the next request to: its one group, or by the weights of a weighted
 * ForwardConfig (a round over the total weight); null for an action that forwards nowhere.
 * @returns {(a: Action) => string | null}
 */
export function groupChooser() {
  /** @type {Map<Action, number>} */
  const weightedCursor = new Map();
  /** @param {Action} a */
  return (a) => {
    const list = forwardsTo(a).filter((f) => f.weight > 0);
    if (list.length <= 1) return list[0]?.arn ?? null;
    const total = list.reduce((s, f) => s + f.weight, 0);
    const n = weightedCursor.get(a) ?? 0;
    weightedCursor.set(a, n + 1);
    let slot = n % total;
    for (const f of list) {
      if (slot < f.weight) return f.arn;
      slot -= f.weight;
    }
    return list[0].arn;
  };
}
