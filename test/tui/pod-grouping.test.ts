/** The containers pane shows a `kube play` pod as a group: infra row first, its containers under it. */
import { describe, expect, it } from 'vitest';
import { damagedStandIn, type ContainerRecord } from '../../source/runtime/containers/record.js';
import { INFRA_LABEL, POD_ID_LABEL, POD_NAME_LABEL } from '../../source/runtime/kube/labels.js';
import { podName } from '../../source/tui/panes/container-cells.js';
import { groupPods } from '../../source/tui/state/selectors.js';

function record(name: string, labels: Record<string, string> = {}): ContainerRecord {
  const made = damagedStandIn(name.padEnd(64, '0'), name, '');
  delete made.Damaged;
  made.Config.Labels = labels;
  return made;
}

const pod = (name: string, infra = false) =>
  record(name, {
    [POD_ID_LABEL]: 'p1',
    [POD_NAME_LABEL]: 'shop',
    ...(infra ? { [INFRA_LABEL]: 'true' } : {}),
  });

describe('pod grouping', () => {
  it("lists a pod's containers together where its first one sorts, infra first; others keep their place", () => {
    const list = [
      record('alpha'),
      pod('shop-back'),
      record('beta'),
      pod('shop-infra', true),
      pod('shop-front'),
      record('gamma'),
    ];
    expect(groupPods(list).map((r) => r.Name)).toEqual([
      'alpha',
      'shop-infra',
      'shop-back',
      'shop-front',
      'beta',
      'gamma',
    ]);
    const plain = [record('b'), record('a')];
    expect(groupPods(plain).map((r) => r.Name)).toEqual(['b', 'a']);
  });

  it('names the infra row after the pod and indents its containers', () => {
    expect(podName(pod('shop-infra', true))).toBe('pod shop');
    expect(podName(pod('shop-front'))).toBe('└ shop-front');
    expect(podName(record('alone'))).toBe('alone');
  });
});
