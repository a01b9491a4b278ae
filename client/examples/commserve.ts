// CommServe dialect: log in (a JSON password is base64), then send the token as Authtoken.
import { bulwarkClient } from '../index.js';

const url = process.env.BULWARK_URL ?? 'http://127.0.0.1:8080';
const cs = bulwarkClient(url);
const password = Buffer.from(process.env.ADMIN_PASSWORD ?? '').toString('base64');
const login = await cs.POST('/commandcenter/api/Login', { body: { mode: 4, username: 'admin', password } });
// An application error is a reply too (HTTP 200, errorCode): narrow on the field you need.
if (!login.data || !('token' in login.data) || !login.data.token) throw new Error('login failed');
const token = login.data.token;
const me = await cs.GET('/commandcenter/api/WhoAmI', { headers: { Authtoken: token } });
console.log(me.data && 'user' in me.data ? me.data.user?.userName : me.error); // admin
await cs.POST('/commandcenter/api/Logout', { headers: { Authtoken: token } });
