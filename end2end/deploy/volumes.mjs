// The files a container of a rendered workload sees through its ConfigMap, Secret and projected volumes: which
// object and key each comes from, and its content. What certdesk.toml names must be among them.

/** The key → text of a rendered ConfigMap or Secret (Secret data is base64). */
function entries(object) {
  const decoded = Object.entries(object.data ?? {}).map(([key, value]) => [
    key,
    object.kind === 'Secret' ? Buffer.from(value, 'base64').toString('utf8') : value,
  ]);
  return new Map([...decoded, ...Object.entries(object.stringData ?? {})]);
}

/** One volume source (configMap or secret) as relative path → { from, key, content }, or a problem. */
function sourceFiles(kind, source, objects, problems, where) {
  const name = kind === 'ConfigMap' ? source.name : (source.secretName ?? source.name);
  const object = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!object) {
    if (!source.optional) problems.push(`${where}: names ${kind} ${name}, which the manifests do not have`);
    return [];
  }
  const data = entries(object);
  const items = source.items ?? [...data.keys()].map((key) => ({ key, path: key }));
  return items.flatMap(({ key, path }) => {
    if (!data.has(key)) {
      problems.push(`${where}: ${kind} ${name} has no key ${key}`);
      return [];
    }
    return [{ path, from: `${kind} ${name}`, key, content: data.get(key) }];
  });
}

function volumeFiles(volume, objects, problems, where) {
  if (volume.configMap) return sourceFiles('ConfigMap', volume.configMap, objects, problems, where);
  if (volume.secret) return sourceFiles('Secret', volume.secret, objects, problems, where);
  if (volume.projected) {
    return (volume.projected.sources ?? []).flatMap((source) => {
      if (source.configMap) return sourceFiles('ConfigMap', source.configMap, objects, problems, where);
      if (source.secret) return sourceFiles('Secret', source.secret, objects, problems, where);
      return [];
    });
  }
  return [];
}

/**
 * Absolute path → { from, key, content } for every file the container's volume mounts show, and the problems met
 * (a volume naming an object or a key that does not exist).
 */
export function mountedFiles(podSpec, container, objects, where) {
  const files = new Map();
  const problems = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = (podSpec.volumes ?? []).find((v) => v.name === mount.name);
    if (!volume) {
      problems.push(`${where}: mounts volume ${mount.name}, which the pod does not have`);
      continue;
    }
    for (const file of volumeFiles(volume, objects, problems, `${where} volume ${volume.name}`)) {
      if (mount.subPath && file.path !== mount.subPath) continue;
      const path = mount.subPath ? mount.mountPath : `${mount.mountPath.replace(/\/$/, '')}/${file.path}`;
      files.set(path, file);
    }
  }
  return { files, problems };
}
