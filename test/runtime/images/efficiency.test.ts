/** The waste arithmetic: dive's score, and wasted bytes that count all copies but the smallest. */
import { describe, expect, it } from 'vitest';
import { WasteLedger } from '../../../source/runtime/images/tree/efficiency.js';

const MB = 1024 * 1024;

describe('WasteLedger', () => {
  it('counts a file overwritten once as one wasted copy, not two (dive says 2 MB)', () => {
    const ledger = new WasteLedger();
    ledger.record('/big', 0, MB);
    ledger.record('/small', 0, 100);
    ledger.record('/big', 1, MB);
    const result = ledger.result();
    expect(result.wastedBytes).toBe(MB);
    expect(result.inefficiencies).toEqual([
      { path: '/big', count: 2, cumulativeBytes: 2 * MB, wastedBytes: MB, layers: [0, 1] },
    ]);
    // dive's score is kept: smallest copies over all copies.
    expect(result.efficiency).toBeCloseTo((MB + 100) / (2 * MB + 100), 12);
    expect(result.efficiency).toBeCloseTo(1 - result.wastedBytes / result.cumulativeBytes, 12);
  });

  it('counts a removed file as wasted in full, and keeps the smallest copy of a growing file', () => {
    const ledger = new WasteLedger();
    ledger.record('/removed', 0, 500);
    ledger.record('/removed', 2, 0);
    ledger.record('/grows', 0, 10);
    ledger.record('/grows', 1, 30);
    ledger.record('/once', 1, 7);
    const result = ledger.result();
    expect(result.wastedBytes).toBe(500 + 30);
    expect(result.inefficiencies.map((item) => [item.path, item.wastedBytes, item.cumulativeBytes])).toEqual([
      ['/removed', 500, 500],
      ['/grows', 30, 40],
    ]);
    expect(result.efficiency).toBeCloseTo((0 + 10 + 7) / (500 + 40 + 7), 12);
  });

  it('gives an empty stack a perfect score', () => {
    expect(new WasteLedger().result()).toEqual({
      efficiency: 1,
      wastedBytes: 0,
      cumulativeBytes: 0,
      inefficiencies: [],
    });
  });
});
