// svelte-i18n with two catalogues: zh-CN (default, the users' own words from docs/domain.md) and en.
// Texts from the backend arrive as Localized {zh, en} and are picked with `tl`.
import { addMessages, init, locale, _ } from 'svelte-i18n';
import { derived, get, type Readable } from 'svelte/store';
import type { Lang, Localized } from '../backend/types';
import zh from './zh-CN';
import en from './en';

export const LANGS: readonly Lang[] = ['zh-CN', 'en'];
const STORAGE_KEY = 'heatcrew.lang';

export function storedLang(): Lang | null {
  try {
    const v = globalThis.localStorage?.getItem(STORAGE_KEY);
    return v === 'en' || v === 'zh-CN' ? v : null;
  } catch {
    return null;
  }
}

let ready = false;
export function setupI18n(initial: Lang | null = storedLang()): void {
  if (!ready) {
    addMessages('zh-CN', zh);
    addMessages('en', en);
    ready = true;
  }
  init({ fallbackLocale: 'zh-CN', initialLocale: initial ?? 'zh-CN' });
  // The page language picks the CJK glyph variants (zh-Hans) and the screen reader's voice.
  if (typeof document !== 'undefined') document.documentElement.lang = initial ?? 'zh-CN';
}

export const lang: Readable<Lang> = derived(locale, (l) => (l === 'en' ? 'en' : 'zh-CN'));

/** Picks the current language's text of a backend `Localized`. */
export const tl: Readable<(text: Localized | null | undefined) => string> = derived(
  lang,
  (l) => (text: Localized | null | undefined) => (text ? (l === 'en' ? text.en : text.zh) : ''),
);

export function setLang(next: Lang): void {
  locale.set(next);
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, next);
  } catch {
    /* private mode: the choice lasts for this run only */
  }
  if (typeof document !== 'undefined') document.documentElement.lang = next;
}

export function currentLang(): Lang {
  return get(lang);
}

/** The message formatter store: `$t('jobs.title')`, `$t('sla.left', { values: { time } })`. */
export const t = _;
