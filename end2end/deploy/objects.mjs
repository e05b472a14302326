// Small questions asked of rendered Kubernetes objects by the deploy checks: does a selector pick these labels, what
// labels do a workload's pods carry, which object has this kind and name, does a Gateway API hostname cover a name.

/** Whether a label selector (matchLabels only, non-empty) selects objects with these labels. */
export const selects = (selector, labels) =>
  !!selector &&
  Object.keys(selector.matchLabels ?? {}).length > 0 &&
  (selector.matchExpressions ?? []).length === 0 &&
  Object.entries(selector.matchLabels).every(([key, value]) => labels?.[key] === value);

export const podLabels = (workload) => workload.spec.template.metadata?.labels ?? {};

/** The object of that kind and name (and namespace, when given). */
export const find = (objects, kind, name, namespace) =>
  objects.find(
    (o) => o.kind === kind && o.metadata?.name === name && (!namespace || o.metadata?.namespace === namespace),
  );

/** Whether a Gateway API hostname (`*.example.net`: any name below it; or exact) covers a name. */
export const covers = (pattern, name) =>
  pattern === name || (pattern.startsWith('*.') && name.endsWith(pattern.slice(1)) && name !== pattern.slice(2));
