/** Who is calling, as resolved from a valid Authtoken. */
export interface Principal {
  userId: number;
  userName: string;
  userGuid: string;
  companyId: number;
  companyDomain: string;
  sessionId: number;
  tokenHash: string;
}

/** `domain\user` for a company's users, the bare name for the CommCell's. */
export function loginName(companyId: number, companyDomain: string, userName: string): string {
  return companyId === 0 ? userName : `${companyDomain}\\${userName}`;
}
