// Issuance throughput through HAProxy with 1, 2 and 3 portal replicas on the same PostgreSQL and 3-node OpenBao
// cluster (end2end/stack.sh cluster-bench): CONCURRENCY clients POST /api/v1/certificates (server-made P-256 key,
// one day, an idempotency key each) for SECONDS per level; prints certificates per second and the ratios to 1.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { baseUrl, replicaUrls, signIn, createToken } from './session.mjs';

const run = promisify(execFile);
const SECONDS = Number(process.env.CERTDESK_CLUSTER_BENCH_SECONDS ?? 20);
const CONCURRENCY = Number(process.env.CERTDESK_CLUSTER_BENCH_CONCURRENCY ?? 16);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function serving() {
  const ready = await Promise.all(
    replicaUrls.map((url) => fetch(`${url}/readyz`).then((r) => r.status === 200, () => false)),
  );
  return ready.filter(Boolean).length;
}

async function level(token, replicas) {
  let issued = 0;
  let errors = 0;
  const latencies = [];
  const until = Date.now() + SECONDS * 1000;
  const worker = async (w) => {
    for (let n = 0; Date.now() < until; n++) {
      const started = performance.now();
      const response = await fetch(`${baseUrl}/api/v1/certificates`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify({
          issuer_id: 'private',
          dns_names: [`bench-${replicas}-${w}-${n}-${Date.now()}.cluster.local`],
          validity_days: 1,
          key: { source: 'generate', key_type: 'ec-p256' },
        }),
      }).catch(() => null);
      const ok = response?.status === 201;
      await response?.arrayBuffer();
      if (ok) {
        issued++;
        latencies.push(performance.now() - started);
      } else errors++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  latencies.sort((a, b) => a - b);
  const p = (q) => latencies[Math.floor(q * (latencies.length - 1))]?.toFixed(0) ?? '-';
  return { replicas, perSecond: issued / SECONDS, errors, p50: p(0.5), p95: p(0.95) };
}

const cookie = await signIn('user2');
const token = await createToken(cookie, `bench-${Date.now()}`);
const results = [];
for (const replicas of [1, 2, 3]) {
  if (replicas > 1) await run(process.env.CERTDESK_CLUSTER_FAULT, ['cluster-fault', 'start-replica', String(replicas)]);
  // HAProxy adds a server after two passed health checks, one a second.
  while ((await serving()) !== replicas) await sleep(200);
  await sleep(3000);
  await level(token, replicas); // warm-up: connections, the issuer's AppRole token on the new replica
  results.push(await level(token, replicas));
}
console.log(`\nissuance through HAProxy, ${CONCURRENCY} concurrent clients, ${SECONDS} s per level (after a warm-up)`);
console.log('| replicas | certificates/s | ratio to 1 | errors | p50 ms | p95 ms |');
console.log('|---|---|---|---|---|---|');
for (const r of results) {
  const ratio = (r.perSecond / results[0].perSecond).toFixed(2);
  console.log(`| ${r.replicas} | ${r.perSecond.toFixed(1)} | ${ratio} | ${r.errors} | ${r.p50} | ${r.p95} |`);
}
