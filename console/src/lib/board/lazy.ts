// A busy day holds ~1,000 cards in ~60 lanes, but a 1280×800 screen shows a few lanes. The lanes
// that fit in the first screens are filled at once; the others stand as boxes of about their
// height (so the page scrolls as it will) and are filled when they come within a screen of view,
// and stay filled. The tray shows its cards a batch at a time as it is scrolled. The data is the
// whole day either way: a live change reaches a lane not yet filled when it is filled.

/** Sizes from app.css (`.lane`, `.lane-jobs`, `.job-card`); a card is about this tall. */
export const CARD_WIDTH = 236;
export const CARD_GAP = 8;
export const CARD_HEIGHT = 126;
export const LANE_HEAD = 150;
export const LANE_PAD = 8;
export const LANE_MIN = 74;
/** Cards the tray shows before it is scrolled to its end, and how many more each time. */
export const TRAY_BATCH = 40;

/** Cards side by side in a lane of the board `lanesWidth` pixels wide. */
export function cardsPerRow(lanesWidth: number): number {
  const inner = lanesWidth - LANE_HEAD - 2 * LANE_PAD - 2;
  return Math.max(1, Math.floor((inner + CARD_GAP) / (CARD_WIDTH + CARD_GAP)));
}

/** About how tall a lane of `cards` cards stands, `perRow` to a row. */
export function laneHeight(cards: number, perRow: number): number {
  if (cards <= 0) return LANE_MIN;
  const rows = Math.ceil(cards / Math.max(1, perRow));
  return Math.max(LANE_MIN, rows * CARD_HEIGHT + (rows - 1) * CARD_GAP + 2 * LANE_PAD);
}

/** How many lanes from the top are filled at once: those starting within `budget` pixels. */
export function eagerLanes(cards: readonly number[], perRow: number, budget: number): number {
  let top = 0;
  let i = 0;
  while (i < cards.length && top < budget) {
    top += laneHeight(cards[i], perRow) + CARD_GAP;
    i++;
  }
  return i;
}

type Near = () => void;
const waiting = new Map<Element, Near>();
let observer: IntersectionObserver | null = null;

function shared(): IntersectionObserver | null {
  if (typeof IntersectionObserver === 'undefined') return null;
  observer ??= new IntersectionObserver(
    (entries) => {
      for (const e of entries) {
        if (!e.isIntersecting) continue;
        const f = waiting.get(e.target);
        waiting.delete(e.target);
        observer?.unobserve(e.target);
        f?.();
      }
    },
    // Within a screen above or below the visible part.
    { rootMargin: '100% 0px 100% 0px' },
  );
  return observer;
}

/** Svelte action: call `near` once, when `node` comes within a screen of view (at once where the
 *  browser cannot tell). */
export function whenNear(node: Element, near: Near) {
  const io = shared();
  if (!io) {
    near();
    return {};
  }
  waiting.set(node, near);
  io.observe(node);
  return {
    destroy() {
      waiting.delete(node);
      io.unobserve(node);
    },
  };
}
