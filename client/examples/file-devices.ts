// File-devices dialect: HTTP Basic creates an API key (shown only now), which lists the virtual servers.
import { bulwarkClient } from '../index.js';

const basic = Buffer.from(`admin:${process.env.ADMIN_PASSWORD ?? ''}`).toString('base64');
const url = process.env.BULWARK_URL ?? 'http://127.0.0.1:8080';
const admin = bulwarkClient(url, { headers: { Authorization: `Basic ${basic}` } });
const created = await admin.POST('/v9/storage/file-devices/management/api-keys', {
  body: { description: 'scripts', restApiAccess: 'READ_ONLY' },
});
if (!created.data?.key) throw new Error(created.error?.errorDetail.message);
const scripts = bulwarkClient(url, { headers: { 'X-Api-Key': created.data.key } });
const listed = await scripts.GET('/v9/storage/virtual-servers');
console.log(listed.data?.virtualServers?.length); // 0
const denied = await scripts.DELETE('/v9/storage/file-devices/management/api-keys/{id}', {
  params: { path: { id: created.data.apiKey?.objectId ?? '' } },
});
console.log(denied.error?.errorCode); // ACCESS_DENIED
