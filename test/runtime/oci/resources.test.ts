/** How gantry-oci reads a bundle's linux.resources into the engine's limits. */
import { describe, expect, it } from 'vitest';
import { resourcesFromSpec } from '../../../source/runtime/oci/resources.js';

describe('resources from an OCI spec', () => {
  it('takes blockIO.weightDevice and the unified map, which it used to drop', () => {
    const resources = resourcesFromSpec({
      ociVersion: '1.0.2',
      linux: {
        resources: {
          blockIO: {
            weight: 200,
            weightDevice: [
              { major: 8, minor: 0, weight: 600 },
              // leafWeight only (a v1 knob): no weight for the device itself.
              { major: 8, minor: 16 },
            ],
          },
          unified: { 'memory.high': '50000000', 'pids.max': '9' },
        },
      },
    });
    expect(resources.blkioWeight).toBe(200);
    expect(resources.blkioWeightDevice).toEqual([{ path: '8:0', major: 8, minor: 0, weight: 600 }]);
    expect(resources.unified).toEqual({ 'memory.high': '50000000', 'pids.max': '9' });
  });

  it('leaves an empty unified map out', () => {
    expect(
      resourcesFromSpec({ ociVersion: '1.0.2', linux: { resources: { unified: {} } } }).unified,
    ).toBeUndefined();
  });

  it('ignores linux.resources.memory.kernel with a warning, as runc does', () => {
    const warnings: string[] = [];
    const resources = resourcesFromSpec(
      { ociVersion: '1.0.2', linux: { resources: { memory: { kernel: 1 << 26, limit: 1 << 27 } } } },
      (message) => warnings.push(message),
    );
    expect(resources.kernelMemory).toBeUndefined();
    expect(resources.memory).toBe(1 << 27);
    expect(warnings).toEqual([expect.stringContaining('linux.resources.memory.kernel is ignored')]);
  });
});
