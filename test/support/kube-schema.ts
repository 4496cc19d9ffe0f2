/**
 * Checks a manifest against the Kubernetes OpenAPI schema: kubernetes-models (MIT) ships the
 * schema of every core/v1 and apps/v1 type compiled into validators (generated from the
 * Kubernetes OpenAPI document with ajv), so a type error, a missing required field or a bad
 * enum value anywhere in a Pod or Deployment fails here, as `kubectl apply --validate` fails.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Pod } from 'kubernetes-models/v1/Pod';

/** Throws the schema's complaints about `manifest`; returns its kind when it is valid. */
export function validateManifest(manifest: unknown): 'Pod' | 'Deployment' {
  const kind = (manifest as { kind?: unknown }).kind;
  if (kind === 'Pod') {
    new Pod(manifest as ConstructorParameters<typeof Pod>[0]).validate();
    return kind;
  }
  if (kind === 'Deployment') {
    new Deployment(manifest as ConstructorParameters<typeof Deployment>[0]).validate();
    return kind;
  }
  throw new Error(`not a Pod or Deployment: kind ${JSON.stringify(kind)}`);
}
