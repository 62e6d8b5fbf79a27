import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { SignerConfigSchema, type SignerConfig } from '../src/config/config-schema';
import { checkConsistency } from '../src/config/consistency';
import { applyEnvOverrides } from '../src/config/load-config';

const BASE = join(__dirname, '..', '..', '..', 'deploy', 'base');

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
interface EnvVar {
  name: string;
  value?: string;
}
interface Mount {
  name: string;
  mountPath: string;
  subPath?: string;
}
interface Container {
  image: string;
  env: EnvVar[];
  ports: Array<{ name: string; containerPort: number }>;
  livenessProbe: { httpGet: Record<string, unknown> };
  readinessProbe: { httpGet: Record<string, unknown> };
  resources: { limits: Record<string, string> };
  securityContext: Record<string, unknown>;
  volumeMounts: Mount[];
}
interface PodSpec {
  containers: Container[];
  volumes: Array<{ name: string }>;
  securityContext: Record<string, unknown>;
  automountServiceAccountToken: boolean;
}
interface DeploymentSpec {
  replicas: number;
  selector: { matchLabels: Record<string, string> };
  template: { spec: PodSpec };
}

interface Kustomization {
  namespace: string;
  resources: string[];
  images: Array<{ name: string; newName: string; newTag: string }>;
  labels: Array<{ pairs: Record<string, string> }>;
}

/** What `kustomize build deploy/base` does with the features the base uses: namespace, labels, images. */
function render(): Manifest[] {
  const kustomization = parse(readFileSync(join(BASE, 'kustomization.yaml'), 'utf8')) as Kustomization;
  const docs = kustomization.resources.flatMap((file) =>
    parseAllDocuments(readFileSync(join(BASE, file), 'utf8')).map((doc) => doc.toJS() as Manifest),
  );
  for (const doc of docs) {
    doc.metadata.namespace = kustomization.namespace;
    for (const { pairs } of kustomization.labels) Object.assign((doc.metadata.labels ??= {}), pairs);
    const pod = (doc.spec as Partial<DeploymentSpec> | undefined)?.template?.spec;
    for (const container of pod?.containers ?? []) {
      const image = kustomization.images.find((i) => i.name === container.image);
      if (image) container.image = `${image.newName}:${image.newTag}`;
    }
  }
  return docs;
}

const docs = render();
const one = (kind: string): Manifest => {
  const found = docs.filter((doc) => doc.kind === kind);
  expect(found).toHaveLength(1);
  return found[0];
};
const deployment = () => one('Deployment').spec as unknown as DeploymentSpec;
const container = () => deployment().template.spec.containers[0];
const specOf = <T>(kind: string) => one(kind).spec as unknown as T;

/**
 * The mounted signer.yaml with the Deployment's SIGNER__ env overrides (secret-sourced ones get
 * placeholders), validated by the real schema and cross-key rules.
 */
function mountedConfig(): { config: SignerConfig; env: Record<string, string> } {
  const env: Record<string, string> = {};
  for (const variable of container().env) {
    if (variable.name.startsWith('SIGNER__'))
      env[variable.name] = variable.value ?? `placeholder://${variable.name}`;
  }
  const raw = applyEnvOverrides(parse(one('ConfigMap').data?.['signer.yaml'] as string), env);
  const validate = new Ajv({ allErrors: true, useDefaults: true, strict: false }).compile<SignerConfig>(
    SignerConfigSchema,
  );
  const config = structuredClone(raw);
  expect(validate(config) ? [] : validate.errors).toEqual([]);
  expect(checkConsistency(config as unknown as SignerConfig)).toEqual([]);
  return { config: config as unknown as SignerConfig, env };
}

describe('deploy/base (kustomize)', () => {
  describe('when the kustomization is rendered', () => {
    it('holds the resources of a highly available install, in one namespace', () => {
      expect(docs.map((doc) => doc.kind).sort()).toEqual(
        [
          'ConfigMap',
          'Deployment',
          'NetworkPolicy',
          'PodDisruptionBudget',
          'Service',
          'ServiceAccount',
        ].sort(),
      );
      expect(new Set(docs.map((doc) => doc.metadata.namespace))).toEqual(new Set(['stella-ops']));
      expect(existsSync(join(BASE, 'secrets.example.yaml'))).toBe(true);
    });

    it('runs at least three replicas with a PodDisruptionBudget that keeps a quorum', () => {
      const replicas = deployment().replicas;
      expect(replicas).toBeGreaterThanOrEqual(3);
      const pdb = specOf<{ minAvailable: number; selector: { matchLabels: object } }>('PodDisruptionBudget');
      expect(pdb.minAvailable).toBeGreaterThanOrEqual(2);
      expect(pdb.minAvailable).toBeLessThan(replicas);
      expect(pdb.selector.matchLabels).toEqual(deployment().selector.matchLabels);
    });

    it('runs the CI image as a non-root user on a read-only root filesystem with limits', () => {
      const pod = deployment().template.spec;
      expect(container().image).toMatch(/^ghcr\.io\/stella-ops\/signer-api:/);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(container().securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(container().resources.limits).toMatchObject({
        cpu: expect.anything(),
        memory: expect.anything(),
      });
      expect(pod.automountServiceAccountToken).toBe(false);
    });
  });

  describe('when the manifests are checked against the config schema', () => {
    it('mounts a config that validates, with secrets only as SIGNER__ env overrides', () => {
      const { config, env } = mountedConfig();
      expect(config.quotas.store).toBe('redis');
      expect(config.audit.sink).toBe('postgres');
      expect(Object.keys(env).sort()).toEqual(['SIGNER__AUDIT__POSTGRESURL', 'SIGNER__QUOTAS__REDISURL']);
      expect(one('ConfigMap').data?.['signer.yaml']).not.toMatch(/postgres:\/\/|redis:\/\/|password/i);
      const configEnv = container().env.find((e) => e.name === 'SIGNER_CONFIG');
      const configMount = container().volumeMounts.find((m) => m.subPath === 'signer.yaml');
      expect(configEnv?.value).toBe(configMount?.mountPath);
    });

    it('serves the configured port with TLS at the pod, probed on /healthz and /readyz', () => {
      const { config } = mountedConfig();
      const port = container().ports[0];
      expect(port.containerPort).toBe(config.server.port);
      expect(config.server.host).toBe('0.0.0.0');
      expect(config.server.tls?.clientCaFile).toBeDefined();
      expect(container().livenessProbe.httpGet).toMatchObject({
        path: '/healthz',
        scheme: 'HTTPS',
        port: port.name,
      });
      expect(container().readinessProbe.httpGet).toMatchObject({
        path: '/readyz',
        scheme: 'HTTPS',
        port: port.name,
      });
      expect(specOf<{ ports: Array<{ targetPort: string }> }>('Service').ports[0].targetPort).toBe(port.name);
      const policy = specOf<{ ingress: Array<{ ports: Array<{ port: number }> }> }>('NetworkPolicy');
      expect(policy.ingress[0].ports[0].port).toBe(config.server.port);
    });

    it('mounts every file the config names', () => {
      const { config } = mountedConfig();
      const mounts = container().volumeMounts.map((m) => m.mountPath);
      const volumes = deployment().template.spec.volumes.map((v) => v.name);
      for (const mount of container().volumeMounts) expect(volumes).toContain(mount.name);
      const files = [
        config.server.tls?.certFile,
        config.server.tls?.keyFile,
        config.server.tls?.clientCaFile,
        ...config.releaseIntegrity.trustedKeysFiles,
      ];
      for (const file of files) {
        expect(mounts.some((mount) => (file as string).startsWith(`${mount}/`))).toBe(true);
      }
    });
  });
});
