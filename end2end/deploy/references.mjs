// What the rendered objects of an overlay must say about each other, about the platform's Gateway and ClusterIssuer,
// about the image (deploy/Containerfile) and about certdesk.toml, for the installation to work as a whole: every
// name, key, port, label selector and file resolves, the pods meet the "restricted" Pod Security Standard, and the
// probes, drain and disruption budget are in place. The pods are judged in workloads.mjs, the routes in routes.mjs.
import { podLabels, selects } from './objects.mjs';
import { routeProblems } from './routes.mjs';
import { configProblems, deploymentProblems, podProblems } from './workloads.mjs';

const EXPECTED_KINDS = [
  'Namespace', 'ServiceAccount', 'ConfigMap', 'Secret', 'Deployment', 'PodDisruptionBudget', 'Service', 'HTTPRoute',
  'Certificate', 'ReferenceGrant', 'Job', 'ServiceMonitor', 'NetworkPolicy',
];

function serviceProblems(objects, deployment, jobs) {
  const problems = [];
  const container = deployment.spec.template.spec.containers[0];
  for (const service of objects.filter((o) => o.kind === 'Service')) {
    const where = `Service ${service.metadata.name}`;
    const selector = { matchLabels: service.spec.selector };
    if (!selects(selector, podLabels(deployment))) problems.push(`${where}: does not select the Deployment's pods`);
    if (jobs.some((job) => selects(selector, podLabels(job)))) problems.push(`${where}: selects the Job's pods too`);
    for (const port of service.spec.ports) {
      if (!container.ports?.some((p) => p.name === port.targetPort || p.containerPort === port.targetPort)) {
        problems.push(`${where}: port ${port.name} targets ${port.targetPort}, which the Deployment does not expose`);
      }
    }
  }
  for (const budget of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
    const where = `PodDisruptionBudget ${budget.metadata.name}`;
    if (!selects(budget.spec.selector, podLabels(deployment))) problems.push(`${where}: does not select the pods`);
    const allows = budget.spec.maxUnavailable >= 1 || budget.spec.minAvailable < deployment.spec.replicas;
    if (!allows) problems.push(`${where}: allows no disruption at all, so a node drain would hang`);
  }
  return problems;
}

/** Prometheus scrapes /metrics through the Service with the very token certdesk reads. */
function monitorProblems(objects, config, files) {
  const problems = [];
  const monitors = objects.filter((o) => o.kind === 'ServiceMonitor');
  const tokenPath = config.metrics?.bearer_token_file;
  const mounted = tokenPath && files.get(tokenPath);
  if (monitors.length && !config.metrics) problems.push('a ServiceMonitor scrapes, but certdesk.toml has no [metrics]');
  for (const monitor of monitors) {
    const where = `ServiceMonitor ${monitor.metadata.name}`;
    const service = objects.find((o) => o.kind === 'Service' && selects(monitor.spec.selector, o.metadata.labels));
    if (!service) problems.push(`${where}: selects no Service`);
    const httpPort = service?.spec.ports.find((p) => p.targetPort === 'http')?.name;
    for (const endpoint of monitor.spec.endpoints) {
      if (endpoint.path !== '/metrics' || endpoint.port !== httpPort) {
        problems.push(`${where}: does not scrape /metrics on the Service port that targets http`);
      }
      const credentials = endpoint.authorization?.credentials;
      const same = credentials && mounted?.from === `Secret ${credentials.name}` && mounted?.key === credentials.key;
      if (tokenPath && !same) problems.push(`${where}: does not send the token certdesk reads from ${tokenPath}`);
    }
  }
  return problems;
}

function networkProblems(objects, workloads) {
  const problems = [];
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  for (const workload of workloads) {
    const covering = policies.filter((policy) => selects(policy.spec.podSelector, podLabels(workload)));
    for (const type of ['Ingress', 'Egress']) {
      if (!covering.some((policy) => policy.spec.policyTypes?.includes(type))) {
        problems.push(`${workload.kind} ${workload.metadata.name}: no NetworkPolicy limits its ${type.toLowerCase()}`);
      }
    }
  }
  const portNames = workloads[0].spec.template.spec.containers[0].ports.map((port) => port.name);
  for (const policy of policies) {
    const where = `NetworkPolicy ${policy.metadata.name}`;
    const egressPorts = (policy.spec.egress ?? []).flatMap((rule) => rule.ports ?? []).map((port) => port.port);
    if (policy.spec.policyTypes?.includes('Egress') && !egressPorts.includes(53)) {
      problems.push(`${where}: no egress to DNS (port 53)`);
    }
    for (const port of (policy.spec.ingress ?? []).flatMap((rule) => rule.ports ?? [])) {
      if (typeof port.port === 'string' && !portNames.includes(port.port)) {
        problems.push(`${where}: ingress names port ${port.port}, which the pods lack`);
      }
    }
  }
  return problems;
}

function configSanity(config) {
  const problems = [];
  if (config.server?.secure_cookies === false) problems.push('certdesk.toml switches off secure_cookies');
  if (!String(config.server?.public_url).startsWith('https://')) problems.push('server.public_url is not https');
  if (!(config.server?.trusted_proxies ?? []).length) {
    problems.push('server.trusted_proxies is empty: behind the Gateway every client would be the Gateway');
  }
  return problems;
}

/** Every problem of one rendered overlay, as lines. */
export function referenceProblems(objects, platform, image) {
  const missing = EXPECTED_KINDS.filter((kind) => !objects.some((o) => o.kind === kind));
  if (missing.length) return [`the manifests have no ${missing.join(', ')}`];
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const jobs = objects.filter((o) => o.kind === 'Job');
  if (deployments.length !== 1) return [`expected one Deployment, found ${deployments.length}`];
  const [deployment] = deployments;
  const problems = [];
  let served;
  for (const workload of [deployment, ...jobs]) {
    problems.push(...podProblems(workload, objects, image));
    const result = configProblems(workload, objects, image);
    problems.push(...result.problems);
    if (workload === deployment) served = result;
  }
  for (const job of jobs) {
    const args = job.spec.template.spec.containers[0].args;
    if (JSON.stringify(args) !== '["migrate"]') problems.push(`Job ${job.metadata.name}: args ${args} are not migrate`);
  }
  if (!served?.config) return problems;
  const { config, files } = served;
  problems.push(
    ...deploymentProblems(deployment, config, image),
    ...serviceProblems(objects, deployment, jobs),
    ...routeProblems(objects, platform, config),
    ...monitorProblems(objects, config, files),
    ...networkProblems(objects, [deployment, ...jobs]),
    ...configSanity(config),
  );
  return problems;
}
