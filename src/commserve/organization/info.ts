import { windowOpen } from '../../domain/passkey.js';
import type { Company } from '../../store/schema.js';

// A company as GET Organization/{id} shows it, and as cvpysdk sends it back
// whole in PUT Organization (organization.py _update_properties).

export const parseList = (json: string): unknown[] => {
  try {
    const v = JSON.parse(json);
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
};

export function organizationOf(c: Company) {
  return {
    connectName: c.name,
    description: c.description,
    emailDomainNames: parseList(c.email_domains),
    shortName: { id: c.id, domainName: c.domain_name },
    providerGUID: c.guid,
    deactivateOptions: {
      disableBackup: c.disable_backup === 1,
      disableRestore: c.disable_restore === 1,
      disableLogin: c.disable_login === 1,
    },
  };
}

export function organizationPropertiesOf(c: Company, users: number, now: Date) {
  return {
    advancedPrivacySettings: {
      authType: c.passkey_hash ? 2 : 1,
      passkeySettings: { enableAuthorizeForRestore: windowOpen(c.authorize_until, now) },
    },
    allowUsersToEnablePasskey: c.allow_users_to_enable_passkey === 1,
    enableAuthCodeGen: c.enable_auth_code_gen === 1,
    operatorRole: { roleName: 'Tenant Operator' },
    orgCreationDateTime: Math.floor(Date.parse(c.created_at) / 1000),
    totalMachineCount: 0,
    userCount: users,
    serverCount: 0,
    clientGroupForceClientSideDownload: false,
    enableAutoDiscovery: false,
    primaryContacts: parseList(c.primary_contacts),
    defaultPlans: [],
    globalFiltersInfo: { globalFiltersInfoList: [] },
  };
}

export const organizationInfoOf = (c: Company, users: number, now: Date) => ({
  organization: organizationOf(c),
  organizationProperties: organizationPropertiesOf(c, users, now),
  planDetails: [],
});
