// The pods of the Deployment and the migration Job: the "restricted" Pod Security Standard, resources, the user the
// image runs as, the configuration and every file it names mounted; and for the server, replicas, rollout, ports,
// probes, the drain before SIGTERM and the topology spread.
import { namedFiles, portOf, workloadConfig } from './config.mjs';
import { podLabels, selects } from './objects.mjs';
import { mountedFiles } from './volumes.mjs';

export function podProblems(workload, objects, image) {
  const where = `${workload.kind} ${workload.metadata.name}`;
  const problems = [];
  const check = (ok, message) => ok || problems.push(`${where}: ${message}`);
  const pod = workload.spec.template.spec;
  const context = pod.securityContext ?? {};
  check(context.runAsNonRoot === true, 'pod securityContext.runAsNonRoot is not true');
  check(context.seccompProfile?.type === 'RuntimeDefault', 'pod seccompProfile is not RuntimeDefault');
  check(pod.automountServiceAccountToken === false, 'automountServiceAccountToken is not false');
  const [uid, gid] = String(image.user).split(':').map(Number);
  check(
    context.runAsUser === uid && context.runAsGroup === (gid ?? uid),
    `runs as ${context.runAsUser}:${context.runAsGroup}, not as the image's USER ${image.user}`,
  );
  const account = pod.serviceAccountName;
  check(
    objects.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === account),
    `ServiceAccount ${account} is not in the manifests`,
  );
  for (const container of pod.containers) {
    const at = `container ${container.name}`;
    const security = container.securityContext ?? {};
    const resources = container.resources ?? {};
    check(security.allowPrivilegeEscalation === false, `${at}: allowPrivilegeEscalation is not false`);
    check(security.readOnlyRootFilesystem === true, `${at}: readOnlyRootFilesystem is not true`);
    check(security.capabilities?.drop?.includes('ALL'), `${at}: capabilities do not drop ALL`);
    check(resources.requests?.cpu && resources.requests?.memory, `${at}: no cpu and memory requests`);
    check(resources.limits?.memory, `${at}: no memory limit`);
  }
  return problems;
}

/** The workload's configuration, and every file it names is one its container mounts. */
export function configProblems(workload, objects, image) {
  const where = `${workload.kind} ${workload.metadata.name}`;
  const pod = workload.spec.template.spec;
  const { files, problems } = mountedFiles(pod, pod.containers[0], objects, where);
  const loaded = workloadConfig(files, image, where);
  if (loaded.problem) return { problems: [...problems, loaded.problem] };
  for (const { key, path } of namedFiles(loaded.config)) {
    if (!files.has(path)) problems.push(`${where}: certdesk.toml's ${key} is ${path}, which no volume provides`);
  }
  return { problems, config: loaded.config, files };
}

export function deploymentProblems(deployment, config, image) {
  const problems = [];
  const check = (ok, message) => ok || problems.push(`Deployment ${deployment.metadata.name}: ${message}`);
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const port = (name) => container.ports?.find((p) => p.name === name)?.containerPort;
  check(deployment.spec.replicas >= 2, `replicas is ${deployment.spec.replicas}, fewer than 2`);
  check(
    deployment.spec.strategy?.rollingUpdate?.maxUnavailable === 0,
    'a rollout may take a replica away before its replacement is ready',
  );
  check(JSON.stringify(container.args) === JSON.stringify(image.cmd), `args ${container.args} are not the image's CMD`);
  const listen = config.server?.listen;
  check(port('http') === portOf(listen), `port http is not server.listen's (${listen})`);
  const http01 = config.acme?.http01_listen;
  if (http01) check(port('acme-http01') === portOf(http01), `port acme-http01 is not acme.http01_listen's (${http01})`);
  const ports = (container.ports ?? []).map((p) => p.containerPort).sort();
  const exposed = [...image.expose].sort();
  check(JSON.stringify(ports) === JSON.stringify(exposed), `ports ${ports} are not the image's EXPOSE ${exposed}`);
  const health = image.healthcheck?.find((part) => part.startsWith('http://'));
  const healthUrl = health && new URL(health);
  check(
    healthUrl && healthUrl.pathname === '/healthz' && Number(healthUrl.port) === port('http'),
    `the image's HEALTHCHECK (${image.healthcheck}) does not GET /healthz on port http`,
  );
  for (const [probe, path] of [['readinessProbe', '/readyz'], ['livenessProbe', '/healthz']]) {
    const get = container[probe]?.httpGet;
    check(get?.path === path && get?.port === 'http', `${probe} is not GET ${path} on port http`);
  }
  const pause = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
  check(pause > 0, 'no preStop pause: the Gateway would still send requests to a replica that stopped listening');
  const drain = pause + (config.server?.request_timeout_secs ?? 30);
  check(pod.terminationGracePeriodSeconds > drain, `terminationGracePeriodSeconds is not above ${drain} s`);
  const spread = pod.topologySpreadConstraints ?? [];
  check(spread.length > 0, 'no topologySpreadConstraints');
  for (const constraint of spread) {
    check(selects(constraint.labelSelector, podLabels(deployment)), 'a topology spread constraint selects other pods');
  }
  return problems;
}
