/** The password rule, stated once for the error message and the check. */
export const PASSWORD_RULE = '8 to 256 characters, not all blank';

export function passwordAcceptable(pw: string): boolean {
  return pw.length >= 8 && pw.length <= 256 && pw.trim() !== '';
}
