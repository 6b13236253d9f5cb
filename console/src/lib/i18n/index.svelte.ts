// Two catalogues, zh-CN (default) and en, as flat keys; `t` reads the current language from a rune,
// so every text on screen follows a switch without a reload. No library: the console ships small.
import zh, { type MessageKey } from './zh-CN';
import en from './en';

export type Lang = 'zh-CN' | 'en';
export type { MessageKey };
const STORAGE_KEY = 'heatcrew.console.lang';

function stored(): Lang | null {
  try {
    const v = globalThis.localStorage?.getItem(STORAGE_KEY);
    return v === 'en' || v === 'zh-CN' ? v : null;
  } catch {
    return null;
  }
}

let current = $state<Lang>(stored() ?? 'zh-CN');

export function lang(): Lang {
  return current;
}

export function setLang(next: Lang): void {
  current = next;
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, next);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  if (typeof document !== 'undefined') document.documentElement.lang = next;
}

export function format(template: string, vars?: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (vars && k in vars ? String(vars[k]) : m));
}

/** A text the office sends in both languages (checklist step titles), in the current one. */
export function localized(l: { zh: string; en: string }): string {
  return current === 'en' ? l.en : l.zh;
}

/** The current language's text for `key`, with `{placeholders}` filled in. */
export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  return format((current === 'en' ? en : zh)[key], vars);
}

// One formatter per language and shape: a board of ~1,000 cards formats two times a card, and
// `toLocaleTimeString` with options builds a new formatter on every call.
const TIME: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', hour12: false };
const DATE_TIME: Intl.DateTimeFormatOptions = { month: '2-digit', day: '2-digit', ...TIME, second: '2-digit' };
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(shape: 'time' | 'date_time'): Intl.DateTimeFormat {
  const key = `${current} ${shape}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(current, shape === 'time' ? TIME : DATE_TIME);
    formatters.set(key, f);
  }
  return f;
}

/** Times as the office reads them: local time, 24-hour clock. */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '';
  return formatter('time').format(new Date(iso));
}

export function fmtDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  return formatter('date_time').format(new Date(iso));
}

export const catalogues = { zh, en };
