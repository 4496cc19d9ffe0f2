/**
 * The part of the Kubernetes API that `kube generate` writes and `kube play` reads: Pod and
 * Deployment (apps/v1) with the container fields the engine has an equivalent for. Field names and
 * nesting are Kubernetes' own (core/v1 and apps/v1); the test suite checks the output against the
 * Kubernetes OpenAPI schema.
 */

export interface KubeContainerPort {
  containerPort: number;
  hostPort?: number;
  hostIP?: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  name?: string;
}

export interface KubeEnvVar {
  name: string;
  value?: string;
}

export interface KubeVolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}

export interface KubeResources {
  limits?: Record<string, string>;
  requests?: Record<string, string>;
}

export interface KubeSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  seccompProfile?: { type?: string; localhostProfile?: string };
  capabilities?: { add?: string[]; drop?: string[] };
}

/** A liveness probe; `kube play` runs the exec kind as the container's health check. */
export interface KubeProbe {
  exec?: { command?: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface KubeContainer {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: KubeEnvVar[];
  workingDir?: string;
  ports?: KubeContainerPort[];
  resources?: KubeResources;
  securityContext?: KubeSecurityContext;
  volumeMounts?: KubeVolumeMount[];
  tty?: boolean;
  stdin?: boolean;
  livenessProbe?: KubeProbe;
}

export interface KubeVolume {
  name: string;
  hostPath?: { path: string; type?: string };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  emptyDir?: { medium?: string; sizeLimit?: string };
}

export interface KubePodSpec {
  containers: KubeContainer[];
  volumes?: KubeVolume[];
  hostname?: string;
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  shareProcessNamespace?: boolean;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: KubeSecurityContext;
  terminationGracePeriodSeconds?: number;
  os?: { name?: string };
  [other: string]: unknown;
}

export interface KubeMetadata {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  [other: string]: unknown;
}

export interface KubePod {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: KubeMetadata;
  spec: KubePodSpec;
}

export interface KubeDeployment {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: KubeMetadata;
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: Omit<KubeMetadata, 'name'> & { name?: string }; spec: KubePodSpec };
  };
}

export type KubeManifest = KubePod | KubeDeployment;
