/**
 * Names for the codes the api sends (incident types, categories, history actions, error codes). A city's
 * own codes that the translation files do not know still read as words, never as raw identifiers.
 */
import type { TFunction } from 'i18next';
import { ApiError } from '../api/client.js';

export function categoryLabel(t: TFunction, category: string): string {
  return t(`category.${category}`, { defaultValue: t('category.other') });
}

/** An unknown type is named by its category, which the api restricts to a known list. */
export function incidentTypeLabel(t: TFunction, type: string, category: string): string {
  return t(`incidentType.${type}`, { defaultValue: t('incidentType.ofCategory', { category: categoryLabel(t, category) }) });
}

export function actionLabel(t: TFunction, action: string): string {
  return t(`action.${action}`, { defaultValue: t('action.other') });
}

/** What went wrong in the reader's language; the api's own message follows as detail for support. */
export function errorMessage(t: TFunction, failure: unknown): { message: string; detail?: string } {
  if (!(failure instanceof ApiError)) return { message: t('common.failed') };
  return { message: t(`apiError.${failure.code}`, { defaultValue: t('common.failed') }), detail: failure.message || undefined };
}
