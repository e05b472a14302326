// What the rendered objects of an overlay must say about each other, about the platform's Gateway and ClusterIssuer,
// about the image (deploy/Containerfile) and about certdesk.toml, for the installation to work as a whole: every
// name, key, port, label selector and file resolves, the pods meet the "restricted" Pod Security Standard, and the
// probes, drain and disruption budget are in place.
import { namedFiles, portOf, workloadConfig } from './config.mjs';
import { mountedFiles } from './volumes.mjs';

const EXPECTED_KINDS = [
  'Namespace', 'ServiceAccount', 'ConfigMap', 'Secret', 'Deployment', 'PodDisruptionBudget', 'Service', 'HTTPRoute',
  'Certificate', 'ReferenceGrant', 'Job', 'ServiceMonitor', 'NetworkPolicy',
];
const ACME_CHALLENGE_PATH = '/.well-known/acme-challenge';

const selects = (selector, labels) =>
  !!selector && Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels?.[key] === value) &&
  (selector.matchExpressions ?? []).length === 0 && Object.keys(selector.matchLabels ?? {}).length > 0;
const podLabels = (workload) => workload.spec.template.metadata?.labels ?? {};
const hostOf = (url) => new URL(url).hostname;

/** Whether a Gateway API hostname (`*.example.net` or exact) covers a name. */
const covers = (pattern, name) =>
  pattern === name || (pattern.startsWith('*.') && name.endsWith(pattern.slice(1)) && name !== pattern.slice(2));

function podSecurityProblems(workload, where) {
  const problems = [];
  const check = (ok, message) => ok || problems.push(`${where}: ${message}`);
  const pod = workload.spec.template.spec;
  check(pod.securityContext?.runAsNonRoot === true, 'pod securityContext.runAsNonRoot is not true');
  check(pod.securityContext?.seccompProfile?.type === 'RuntimeDefault', 'pod seccompProfile is not RuntimeDefault');
  check(pod.automountServiceAccountToken === false, 'automountServiceAccountToken is not false');
  for (const container of pod.containers) {
    const at = `container ${container.name}`;
    const security = container.securityContext ?? {};
    check(security.allowPrivilegeEscalation === false, `${at}: allowPrivilegeEscalation is not false`);
    check(security.readOnlyRootFilesystem === true, `${at}: readOnlyRootFilesystem is not true`);
    check(security.capabilities?.drop?.includes('ALL'), `${at}: capabilities do not drop ALL`);
    check(container.resources?.requests?.cpu && container.resources?.requests?.memory, `${at}: no cpu/memory requests`);
    check(container.resources?.limits?.memory, `${at}: no memory limit`);
  }
  return problems;
}

/** The workload's configuration, and every file it names is one the container mounts. */
function configProblems(workload, objects, image, where) {
  const pod = workload.spec.template.spec;
  const container = pod.containers[0];
  const { files, problems } = mountedFiles(pod, container, objects, where);
  const loaded = workloadConfig(files, image, where);
  if (loaded.problem) return { problems: [...problems, loaded.problem] };
  for (const { key, path } of namedFiles(loaded.config)) {
    if (!files.has(path)) problems.push(`${where}: certdesk.toml's ${key} is ${path}, which no volume provides`);
  }
  return { problems, config: loaded.config, files };
}

function deploymentProblems(deployment, config, image) {
  const problems = [];
  const check = (ok, message) => ok || problems.push(`Deployment ${deployment.metadata.name}: ${message}`);
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const port = (name) => container.ports?.find((p) => p.name === name)?.containerPort;
  check(deployment.spec.replicas >= 2, `replicas is ${deployment.spec.replicas}, fewer than 2`);
  check(deployment.spec.strategy?.rollingUpdate?.maxUnavailable === 0, 'a rollout may take a replica before replacing it');
  check(JSON.stringify(container.args) === JSON.stringify(image.cmd), `args ${container.args} are not the image's CMD`);
  check(port('http') === portOf(config.server?.listen), `port http is not server.listen's (${config.server?.listen})`);
  if (config.acme?.http01_listen) {
    const listen = config.acme.http01_listen;
    check(port('acme-http01') === portOf(listen), `port acme-http01 is not acme.http01_listen's (${listen})`);
  }
  const ports = (container.ports ?? []).map((p) => p.containerPort).sort();
  check(JSON.stringify(ports) === JSON.stringify([...image.expose].sort()), `ports ${ports} are not the image's EXPOSE`);
  const probe = (which, path) => {
    const get = container[which]?.httpGet;
    check(get?.path === path && get?.port === 'http', `${which} is not GET ${path} on port http`);
  };
  probe('readinessProbe', '/readyz');
  probe('livenessProbe', '/healthz');
  const pause = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
  check(pause > 0, 'no preStop pause: the Gateway would still send requests to a replica that stopped listening');
  const drain = pause + (config.server?.request_timeout_secs ?? 30);
  check(pod.terminationGracePeriodSeconds > drain, `terminationGracePeriodSeconds is not above ${drain} s`);
  for (const constraint of pod.topologySpreadConstraints ?? []) {
    check(selects(constraint.labelSelector, podLabels(deployment)), `a topology spread selects other pods`);
  }
  check((pod.topologySpreadConstraints ?? []).length > 0, 'no topologySpreadConstraints');
  return problems;
}

function serviceProblems(objects, deployment, job) {
  const problems = [];
  const services = objects.filter((o) => o.kind === 'Service');
  const container = deployment.spec.template.spec.containers[0];
  for (const service of services) {
    const where = `Service ${service.metadata.name}`;
    if (!selects({ matchLabels: service.spec.selector }, podLabels(deployment))) {
      problems.push(`${where}: its selector does not select the Deployment's pods`);
    }
    if (job && selects({ matchLabels: service.spec.selector }, podLabels(job))) {
      problems.push(`${where}: its selector also selects the migration Job's pods`);
    }
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

/** The Service port that sends to the Deployment's container port named `name`. */
const servicePort = (service, name) => service?.spec.ports.find((p) => p.targetPort === name);

function routeProblems(objects, platform, config) {
  const problems = [];
  const find = (list, kind, name, namespace) =>
    list.find((o) => o.kind === kind && o.metadata?.name === name && (!namespace || o.metadata?.namespace === namespace));
  const publicHost = hostOf(config.server.public_url);
  const http01Domains = (config.issuers ?? [])
    .filter((issuer) => issuer.kind === 'acme')
    .flatMap((issuer) => {
      const dns01 = (issuer.challenges ?? []).filter((rule) => rule.type === 'dns-01').flatMap((rule) => rule.domains);
      return (issuer.policy ?? []).flatMap((rule) => rule.domains ?? []).filter((domain) => !dns01.includes(domain));
    });
  const certificates = objects.filter((o) => o.kind === 'Certificate');
  let served = false;
  let answersHttp01 = false;
  for (const route of objects.filter((o) => o.kind === 'HTTPRoute')) {
    const where = `HTTPRoute ${route.metadata.name}`;
    const namespace = route.metadata.namespace;
    const hostnames = route.spec.hostnames ?? [];
    const backends = route.spec.rules.flatMap((rule) => rule.backendRefs ?? []);
    const targets = backends.map((ref) => {
      const service = find(objects, 'Service', ref.name);
      const port = service?.spec.ports.find((p) => p.port === ref.port);
      if (!port) problems.push(`${where}: backendRef ${ref.name}:${ref.port} is no port of a Service`);
      return port?.targetPort;
    });
    for (const parent of route.spec.parentRefs) {
      const gateway = find(platform, 'Gateway', parent.name, parent.namespace ?? namespace);
      const listener = gateway?.spec.listeners.find((l) => l.name === parent.sectionName);
      if (!listener) {
        problems.push(`${where}: parentRef ${parent.namespace}/${parent.name} ${parent.sectionName} is no listener ` +
          'of the platform example');
        continue;
      }
      const allowed = listener.allowedRoutes?.namespaces ?? { from: 'Same' };
      const admits = allowed.from === 'All' || (allowed.from === 'Same' && gateway.metadata.namespace === namespace) ||
        (allowed.from === 'Selector' && selects(allowed.selector, { 'kubernetes.io/metadata.name': namespace }));
      if (!admits) problems.push(`${where}: listener ${listener.name} does not take routes from namespace ${namespace}`);
      if (listener.hostname && !hostnames.every((h) => covers(listener.hostname, h))) {
        problems.push(`${where}: hostnames ${hostnames} are not all under listener ${listener.name}'s ${listener.hostname}`);
      }
      if (listener.protocol === 'HTTPS') {
        served = true;
        if (JSON.stringify(hostnames) !== JSON.stringify([publicHost])) {
          problems.push(`${where}: hostnames ${hostnames} are not server.public_url's host ${publicHost}`);
        }
        if (!targets.every((t) => t === 'http')) problems.push(`${where}: does not send to the port named http`);
        for (const ref of listener.tls?.certificateRefs ?? []) {
          const certificate = certificates.find((c) => c.spec.secretName === ref.name);
          if ((ref.namespace ?? gateway.metadata.namespace) !== namespace || !certificate) {
            problems.push(`${where}: listener ${listener.name} serves Secret ${ref.namespace}/${ref.name}, which no ` +
              'Certificate of the manifests makes');
            continue;
          }
          if (!certificate.spec.dnsNames?.includes(publicHost)) {
            problems.push(`Certificate ${certificate.metadata.name}: dnsNames lack ${publicHost}`);
          }
          const granted = objects.some((o) => o.kind === 'ReferenceGrant' &&
            o.spec.from.some((f) => f.kind === 'Gateway' && f.namespace === gateway.metadata.namespace) &&
            o.spec.to.some((t) => t.kind === 'Secret' && (t.group ?? '') === '' && (!t.name || t.name === ref.name)));
          if (!granted) problems.push(`${where}: no ReferenceGrant lets Gateway ${gateway.metadata.name} read ${ref.name}`);
        }
      } else if (listener.protocol === 'HTTP') {
        answersHttp01 = true;
        const paths = route.spec.rules.flatMap((rule) => rule.matches ?? []).map((m) => m.path);
        const onlyChallenges = paths.length > 0 &&
          paths.every((p) => p?.type === 'PathPrefix' && p.value.replace(/\/$/, '') === ACME_CHALLENGE_PATH);
        if (!onlyChallenges) problems.push(`${where}: on plain HTTP it must match ${ACME_CHALLENGE_PATH} alone`);
        if (!targets.every((t) => t === 'acme-http01')) problems.push(`${where}: does not send to port acme-http01`);
        for (const domain of http01Domains) {
          for (const name of [domain, `*.${domain}`]) {
            if (!hostnames.some((h) => covers(h, name))) {
              problems.push(`${where}: HTTP-01 for ${name} (a policy domain of an acme issuer) does not reach certdesk`);
            }
          }
        }
      }
    }
  }
  if (!served) problems.push(`no HTTPRoute serves ${publicHost} on an HTTPS listener`);
  if (http01Domains.length && !answersHttp01) problems.push('no HTTPRoute sends HTTP-01 challenges to certdesk');
  if (http01Domains.length && !config.acme?.http01_listen) problems.push('certdesk.toml sets no acme.http01_listen');
  for (const certificate of certificates) {
    const ref = certificate.spec.issuerRef;
    if (!find(platform, ref.kind ?? 'Issuer', ref.name)) {
      problems.push(`Certificate ${certificate.metadata.name}: issuerRef ${ref.kind} ${ref.name} is not in the platform example`);
    }
  }
  return problems;
}

function monitorProblems(objects, config, files) {
  const problems = [];
  const monitors = objects.filter((o) => o.kind === 'ServiceMonitor');
  const tokenPath = config.metrics?.bearer_token_file;
  if (monitors.length && !config.metrics) problems.push('a ServiceMonitor scrapes, but certdesk.toml has no [metrics]');
  for (const monitor of monitors) {
    const where = `ServiceMonitor ${monitor.metadata.name}`;
    const service = objects.find((o) => o.kind === 'Service' && selects(monitor.spec.selector, o.metadata.labels));
    if (!service) problems.push(`${where}: selects no Service`);
    for (const endpoint of monitor.spec.endpoints) {
      if (endpoint.path !== '/metrics' || servicePort(service, 'http')?.name !== endpoint.port) {
        problems.push(`${where}: does not scrape /metrics on the Service port that targets http`);
      }
      const credentials = endpoint.authorization?.credentials;
      const mounted = tokenPath && files.get(tokenPath);
      if (tokenPath && (!credentials || mounted?.from !== `Secret ${credentials.name}` || mounted?.key !== credentials.key)) {
        problems.push(`${where}: does not send the token certdesk reads from ${tokenPath} (${mounted?.from} ${mounted?.key})`);
      }
    }
  }
  return problems;
}

function networkProblems(objects, workloads) {
  const problems = [];
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  for (const workload of workloads) {
    const covering = policies.filter((p) => selects(p.spec.podSelector, podLabels(workload)));
    const where = `${workload.kind} ${workload.metadata.name}`;
    if (!covering.some((p) => p.spec.policyTypes?.includes('Egress'))) problems.push(`${where}: no NetworkPolicy limits its egress`);
    if (!covering.some((p) => p.spec.policyTypes?.includes('Ingress'))) problems.push(`${where}: no NetworkPolicy limits its ingress`);
  }
  for (const policy of policies) {
    const egressPorts = (policy.spec.egress ?? []).flatMap((rule) => rule.ports ?? []).map((p) => p.port);
    if (policy.spec.policyTypes?.includes('Egress') && !egressPorts.includes(53)) {
      problems.push(`NetworkPolicy ${policy.metadata.name}: no egress to DNS (port 53)`);
    }
    const named = workloads[0].spec.template.spec.containers[0].ports.map((p) => p.name);
    for (const port of (policy.spec.ingress ?? []).flatMap((rule) => rule.ports ?? [])) {
      if (typeof port.port === 'string' && !named.includes(port.port)) {
        problems.push(`NetworkPolicy ${policy.metadata.name}: ingress names port ${port.port}, which the pods lack`);
      }
    }
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
    const where = `${workload.kind} ${workload.metadata.name}`;
    problems.push(...podSecurityProblems(workload, where));
    const [uid, gid] = String(image.user).split(':').map(Number);
    const context = workload.spec.template.spec.securityContext ?? {};
    if (context.runAsUser !== uid || context.runAsGroup !== (gid ?? uid)) {
      problems.push(`${where}: runs as ${context.runAsUser}:${context.runAsGroup}, not as the image's USER ${image.user}`);
    }
    const account = workload.spec.template.spec.serviceAccountName;
    if (!objects.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === account)) {
      problems.push(`${where}: ServiceAccount ${account} is not in the manifests`);
    }
    const result = configProblems(workload, objects, image, where);
    problems.push(...result.problems);
    if (workload === deployment) served = result;
  }
  for (const job of jobs) {
    const args = job.spec.template.spec.containers[0].args;
    if (JSON.stringify(args) !== '["migrate"]') problems.push(`Job ${job.metadata.name}: args ${args} are not migrate`);
  }
  if (!served?.config) return problems;
  const { config, files } = served;
  problems.push(...deploymentProblems(deployment, config, image));
  problems.push(...serviceProblems(objects, deployment, jobs[0]));
  problems.push(...routeProblems(objects, platform, config));
  problems.push(...monitorProblems(objects, config, files));
  problems.push(...networkProblems(objects, [deployment, ...jobs]));
  if (config.server?.secure_cookies === false) problems.push('certdesk.toml switches off secure_cookies');
  if (!String(config.server?.public_url).startsWith('https://')) problems.push('server.public_url is not https');
  if (!(config.server?.trusted_proxies ?? []).length) {
    problems.push('server.trusted_proxies is empty: behind the Gateway every client would be the Gateway');
  }
  return problems;
}
