// While a phone report is typed, which customer lookup to ask the office for
// (`GET /console/customers`): the phone once it has 7 digits (spaces and dashes ignored), else the
// account number once it has 3 characters; the same limits as the office's.
export const MIN_PHONE_DIGITS = 7;
export const MIN_ACCOUNT_CHARS = 3;

/** The lookup's query string, or null while neither field says enough. */
export function lookupQuery(phone: string, account: string): string | null {
  const digits = phone.replace(/\D/g, '');
  if (digits.length >= MIN_PHONE_DIGITS) return `phone=${encodeURIComponent(digits)}`;
  const acct = account.trim();
  if ([...acct].length >= MIN_ACCOUNT_CHARS) return `account=${encodeURIComponent(acct)}`;
  return null;
}
