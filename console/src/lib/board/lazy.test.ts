import { describe, expect, it } from 'vitest';
import { CARD_HEIGHT, LANE_MIN, cardsPerRow, eagerLanes, laneHeight, whenNear } from './lazy';

describe('lazy lanes', () => {
  it('counts the cards that fit side by side, at least one', () => {
    // 1280-wide page: the lanes take about 900 px: 150 head, 16 padding, 236 + 8 a card.
    expect(cardsPerRow(900)).toBe(3);
    expect(cardsPerRow(1200)).toBe(4);
    expect(cardsPerRow(0)).toBe(1);
    expect(cardsPerRow(-50)).toBe(1);
  });

  it('stands an unfilled lane about as tall as its rows of cards', () => {
    expect(laneHeight(0, 3)).toBe(LANE_MIN);
    expect(laneHeight(1, 3)).toBe(CARD_HEIGHT + 16);
    expect(laneHeight(3, 3)).toBe(CARD_HEIGHT + 16);
    expect(laneHeight(4, 3)).toBe(2 * CARD_HEIGHT + 8 + 16);
    expect(laneHeight(5, 0)).toBe(5 * CARD_HEIGHT + 4 * 8 + 16);
  });

  it('fills at once only the lanes that start within the budget', () => {
    // 60 lanes of 16 cards, 3 to a row: 6 rows, ~810 px a lane.
    const busy = Array.from({ length: 60 }, () => 16);
    const n = eagerLanes(busy, 3, 1600);
    expect(n).toBeGreaterThanOrEqual(2);
    expect(n).toBeLessThanOrEqual(3);
    // A small day is filled whole.
    expect(eagerLanes([2, 0, 5, 1], 3, 1600)).toBe(4);
    expect(eagerLanes([], 3, 1600)).toBe(0);
  });

  it('fills at once where the browser cannot tell what is near', () => {
    let called = 0;
    whenNear({} as Element, () => called++);
    expect(called).toBe(1);
  });
});
