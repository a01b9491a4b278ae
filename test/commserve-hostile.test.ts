/**
 * Hostile and malformed input against the CommServe dialect, black-box over
 * HTTP (DESIGN.md §3 "Bodies" and "Replies"): unreadable bodies are 400,
 * too large 413, wrong media type 415, never 500, and the server keeps
 * serving afterwards. afterEach also fails a test if any request in it
 * answered 5xx or logged an error.
 *
 * One app and store serve the whole file (a fresh PostgreSQL schema per test
 * made it take minutes there): no test here depends on an empty database,
 * each checks what its request changed against what was there before it.
 */
import { Readable } from 'node:stream';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, BASE, BASES, b64, startApp, type TestApp } from './harness.js';

let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => {
  await t.close();
});
afterEach(() => {
  // This test's lines only: the log is emptied after each.
  const entries = t.logs
    .splice(0)
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { level: number; msg?: string; res?: { statusCode?: number } });
  const bad = entries.filter((e) => e.level >= 50 || (e.res?.statusCode ?? 0) >= 500);
  expect(bad, 'no request may answer 5xx or log an error').toEqual([]);
});

const LOGIN = `${BASE}/Login`;
const LOGIN_ROOT = 'DM2ContentIndexing_CheckCredentialReq';
const MiB = 1024 * 1024;

interface ErrItem {
  errorCode: number;
  errLogMessage: string;
}

/** Any request: whatever it is, the answer is never a 5xx. */
async function send(o: InjectOptions): Promise<LightMyRequestResponse> {
  const res = await t.inject(o);
  expect(res.statusCode, `${o.method} ${o.url} answered ${res.body.slice(0, 300)}`).toBeLessThan(500);
  return res;
}

function post(
  url: string,
  contentType: string | null,
  payload?: InjectOptions['payload'],
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return send({
    method: 'POST',
    url,
    headers: { ...(contentType === null ? {} : { 'content-type': contentType }), ...headers },
    ...(payload === undefined ? {} : { payload }),
  });
}

const postLogin = (contentType: string | null, payload?: InjectOptions['payload'], headers?: Record<string, string>) =>
  post(LOGIN, contentType, payload, headers);

const jsonLogin = (body: unknown) => postLogin('application/json', JSON.stringify(body));

/** A refused login: Login's own error shape (errList), and never a token. */
function loginError(res: LightMyRequestResponse, status: number, code: number): string {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json();
  expect(body.token).toBeUndefined();
  expect(body.errList).toHaveLength(1);
  const item = body.errList[0] as ErrItem;
  expect(item.errorCode, res.body).toBe(code);
  expect(item.errLogMessage).toEqual(expect.any(String));
  return item.errLogMessage;
}

/** A refusal in the App_GenericResp shape, as JSON. */
function genericError(res: LightMyRequestResponse, status: number, code: number): string {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json();
  expect(body.errorCode, res.body).toBe(code);
  expect(body.errorMessage).toEqual(expect.any(String));
  return body.errorMessage as string;
}

/** A refusal on POST User: its items shape, with the code at the top too. */
function userPostError(res: LightMyRequestResponse, status: number, code: number): string {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json();
  expect(body.errorCode, res.body).toBe(code);
  expect(body.response[0].errorCode).toBe(code);
  expect(body.response[0].entity).toBeUndefined();
  return body.errorMessage as string;
}

function expectToken(res: LightMyRequestResponse): string {
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json();
  expect(body.errList, res.body).toBeUndefined();
  expect(body.token).toMatch(/^QSDK [0-9a-f]{64}$/);
  return body.token as string;
}

/** The server still logs in and serves an authenticated call, on both mount points. */
async function expectAlive(): Promise<void> {
  const token = await t.login();
  for (const base of BASES) {
    const who = await send({ method: 'POST', url: `${base}/WhoAmI`, headers: { authtoken: token } });
    expect(who.statusCode).toBe(200);
    expect(who.json().user.userName).toBe('admin');
  }
}

function expectPrototypeClean(): void {
  const probe = {} as Record<string, unknown>;
  expect(probe.polluted).toBeUndefined();
  expect(probe.isAdmin).toBeUndefined();
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
  expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('isAdmin');
  expect(Object.prototype.toString.call([])).toBe('[object Array]');
}

const xmlReader = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  ignoreDeclaration: true,
});

/** A well-formed XML reply, parsed. */
function readXml(res: LightMyRequestResponse): Record<string, any> {
  expect(res.headers['content-type']).toMatch(/^application\/xml/);
  expect(XMLValidator.validate(res.body), res.body).toBe(true);
  return xmlReader.parse(res.body) as Record<string, any>;
}

const xmlLoginBody = (username: string, password: string) =>
  `<${LOGIN_ROOT} username="${username}" password="${password}" timeOut="30"/>`;

const nested = (open: string, close: string, depth: number, inner = '') =>
  open.repeat(depth) + inner + close.repeat(depth);

describe('malformed XML', () => {
  const cases: Array<[string, string]> = [
    ['an unclosed root', `<${LOGIN_ROOT} username="admin">`],
    ['an unclosed child', `<${LOGIN_ROOT}><username>admin</${LOGIN_ROOT}>`],
    ['crossed tags', `<${LOGIN_ROOT}><a><b></a></b></${LOGIN_ROOT}>`],
    ['garbage', 'garbage!!'],
    ['angle-bracket garbage', '<<<>>>&&&;;'],
    ['text only', 'just some text, no element'],
    ['two roots with end tags', `<${LOGIN_ROOT}></${LOGIN_ROOT}><${LOGIN_ROOT}></${LOGIN_ROOT}>`],
    ['two self-closing roots', `${xmlLoginBody('admin', ADMIN_PASSWORD)}${xmlLoginBody('admin', ADMIN_PASSWORD)}`],
    ['two different roots', '<a/><b/>'],
    ['a root then a self-closing root', `<${LOGIN_ROOT}></${LOGIN_ROOT}><Other/>`],
    ['text after the root', `${xmlLoginBody('admin', ADMIN_PASSWORD)}trailing garbage`],
    ['text before the root', `junk${xmlLoginBody('admin', ADMIN_PASSWORD)}`],
    ['an unquoted attribute', `<${LOGIN_ROOT} username=admin/>`],
    ['a repeated attribute', `<${LOGIN_ROOT} username="admin" username="other"/>`],
    ['an attribute with an open quote', `<${LOGIN_ROOT} username="admin/>`],
    ['a bad tag name', `<${LOGIN_ROOT}><1abc/></${LOGIN_ROOT}>`],
    ['a declaration only', '<?xml version="1.0" encoding="UTF-8"?>'],
    ['a comment only', '<!-- nothing here -->'],
    ['a JSON body sent as XML', JSON.stringify({ username: 'admin', password: b64(ADMIN_PASSWORD) })],
  ];

  it.each(cases)('%s is 400 with errorCode 1001 and a line/column', async (_name, body) => {
    const message = loginError(await postLogin('application/xml', body), 400, 1001);
    expect(message).toMatch(/line \d+, column \d+/);
    expect(message).not.toContain('undefined');
    await expectAlive();
  });

  it('names the line and column of a second root element', async () => {
    const body = `<?xml version="1.0"?>\n${xmlLoginBody('admin', ADMIN_PASSWORD)}\n   <Second/>`;
    const message = loginError(await postLogin('application/xml', body), 400, 1001);
    expect(message).toMatch(/line 3, column \d+: documents may contain only one root/);
  });

  it('trailing content after a valid login message does not log in', async () => {
    for (const tail of ['garbage', '<x/>', `${xmlLoginBody('admin', ADMIN_PASSWORD)}`, '<!-- ok --> junk']) {
      loginError(await postLogin('application/xml', xmlLoginBody('admin', ADMIN_PASSWORD) + tail), 400, 1001);
    }
    // Whitespace, comments and processing instructions around the root are fine.
    const wrapped = `<?xml version="1.0"?>\n<!-- hello -->\n${xmlLoginBody('admin', ADMIN_PASSWORD)}\n<!-- bye -->\n<?pi x?>\n`;
    expectToken(await postLogin('application/xml', wrapped));
  });

  it('binary garbage is 400, as XML and as text/xml', async () => {
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
    loginError(await postLogin('application/xml', bytes), 400, 1001);
    loginError(await postLogin('text/xml', bytes), 400, 1001);
    // UTF-16 is not what we read: refused, not misread.
    const utf16 = Buffer.from(`\ufeff${xmlLoginBody('admin', ADMIN_PASSWORD)}`, 'utf16le');
    loginError(await postLogin('application/xml', utf16), 400, 1001);
    await expectAlive();
  });

  it('an authenticated route refuses malformed XML before running, and the token still works', async () => {
    const token = await t.login();
    const res = await post(`${BASE}/Logout`, 'application/xml', '<App_Logout', { authtoken: token });
    expect(genericError(res, 400, 1001)).toMatch(/line \d+, column \d+/);
    const who = await post(`${BASE}/WhoAmI`, null, undefined, { authtoken: token });
    expect(who.statusCode).toBe(200);
  });
});

describe('DTDs and entities', () => {
  const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<${LOGIN_ROOT} username="&lol9;" password="&lol9;"/>`;
  const quadratic = `<!DOCTYPE r [<!ENTITY a "${'x'.repeat(50_000)}">]><${LOGIN_ROOT} username="${'&a;'.repeat(10_000)}"/>`;
  const cases: Array<[string, string]> = [
    ['a plain DOCTYPE', `<!DOCTYPE ${LOGIN_ROOT}>${xmlLoginBody('admin', ADMIN_PASSWORD)}`],
    ['a lower-case doctype after the declaration', `<?xml version="1.0"?>\n<!doctype x>\n${xmlLoginBody('a', 'b')}`],
    ['the billion laughs bomb', billionLaughs],
    ['a quadratic blow-up', quadratic],
    [
      'an external entity (file:///etc/passwd)',
      `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><${LOGIN_ROOT} username="&xxe;" password="x"/>`,
    ],
    [
      'an external entity in element text',
      `<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><${LOGIN_ROOT}><username>&xxe;</username></${LOGIN_ROOT}>`,
    ],
    ['an external DTD', `<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><${LOGIN_ROOT} username="a"/>`],
    ['a public DTD', `<!DOCTYPE r PUBLIC "-//X//Y" "http://127.0.0.1:9/y.dtd"><${LOGIN_ROOT} username="a"/>`],
    [
      'parameter entities',
      `<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p; <!ENTITY % q "<!ENTITY x 'y'>"> %q;]><${LOGIN_ROOT} username="&x;"/>`,
    ],
    ['a bare ENTITY declaration', `<!ENTITY x "y"><${LOGIN_ROOT} username="&x;"/>`],
    ['ELEMENT and ATTLIST declarations', `<!ELEMENT r ANY><!ATTLIST r a CDATA "b"><${LOGIN_ROOT} username="a"/>`],
  ];

  it.each(cases)('%s is refused with 400 / 1003, fast', async (_name, body) => {
    const started = performance.now();
    const res = await postLogin('application/xml', body);
    const elapsed = performance.now() - started;
    expect(loginError(res, 400, 1003)).toMatch(/DOCTYPE|entit/i);
    expect(elapsed).toBeLessThan(1000);
    expect(res.body).not.toContain('lollol');
    expect(res.body).not.toContain('root:');
    expect(res.body.length).toBeLessThan(2000);
    await expectAlive();
  });

  it('refuses a DOCTYPE on authenticated routes too, in the caller’s format', async () => {
    const token = await t.login();
    const json = await post(`${BASE}/WhoAmI`, 'application/xml', billionLaughs, { authtoken: token });
    genericError(json, 400, 1003);
    const xml = await post(`${BASE}/Logout`, 'text/xml', billionLaughs, {
      authtoken: token,
      accept: 'application/xml',
    });
    expect(xml.statusCode).toBe(400);
    expect(readXml(xml).App_GenericResp.errorCode).toBe('1003');
    await expectAlive();
  });

  it('an entity reference with no DTD is never expanded', async () => {
    const res = await postLogin('application/xml', `<${LOGIN_ROOT} username="&xxe;" password="&passwd;"/>`);
    expect(res.json().token).toBeUndefined();
    expect(res.body).not.toContain('root:');
    await expectAlive();
  });
});

describe('malformed JSON', () => {
  const cases: Array<[string, string]> = [
    ['a truncated object', '{"username":'],
    ['single quotes', "{'username':'admin'}"],
    ['unquoted keys', '{username:"admin"}'],
    ['a comment', '{"username":"admin" /* hi */}'],
    ['NaN', '{"username":NaN}'],
    ['two documents', '{"username":"admin"}{"username":"admin"}'],
    ['XML sent as JSON', xmlLoginBody('admin', ADMIN_PASSWORD)],
    ['garbage', 'garbage!!'],
    ['a bad escape', '{"username":"\\x41"}'],
    ['a raw control character', '{"username":"a\u0001b"}'],
    ['unbalanced brackets', '{"username":["admin"}'],
  ];

  it('trailing commas are the one leniency (the product documents send them), even with __proto__ nowhere', async () => {
    expectToken(await postLogin('application/json', `{"username":"admin","password":"${b64(ADMIN_PASSWORD)}",}`));
    loginError(await postLogin('application/json', '{"__proto__":{"x":1},"username":"admin",}'), 400, 1002);
  });

  it.each(cases)('%s is 400 with errorCode 1002', async (_name, body) => {
    loginError(await postLogin('application/json', body), 400, 1002);
    await expectAlive();
  });

  it('binary garbage is 1002', async () => {
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31 + 7) % 256));
    loginError(await postLogin('application/json', bytes), 400, 1002);
  });

  it.each([
    ['an array', '[]'],
    ['a string', '"admin"'],
    ['a number', '42'],
    ['null', 'null'],
    ['true', 'true'],
  ])('a top-level %s is 400 with errorCode 1000', async (_name, body) => {
    expect(loginError(await postLogin('application/json', body), 400, 1000)).toContain('object');
  });

  it('an authenticated route refuses malformed JSON in the App_GenericResp shape', async () => {
    const token = await t.login();
    genericError(await post(`${BASE}/Logout`, 'application/json', '{"x":', { authtoken: token }), 400, 1002);
    expect((await post(`${BASE}/WhoAmI`, null, undefined, { authtoken: token })).statusCode).toBe(200);
  });
});

describe('prototype pollution', () => {
  const login = { username: 'admin', password: b64(ADMIN_PASSWORD) };
  const cases: Array<[string, string]> = [
    [
      '__proto__ at the top',
      `{"__proto__":{"polluted":"yes","isAdmin":true},"username":"admin","password":"${login.password}"}`,
    ],
    ['constructor.prototype at the top', `{"constructor":{"prototype":{"polluted":"yes"}},"username":"admin"}`],
    ['prototype at the top', `{"prototype":{"polluted":"yes"},"username":"admin"}`],
    ['__proto__ deep inside', `{"username":"admin","x":{"a":[1,{"__proto__":{"polluted":"yes"}}]}}`],
    ['_-prefixed ___proto__', `{"___proto__":{"polluted":"yes"},"username":"admin"}`],
    ['_-prefixed _constructor', `{"_constructor":{"prototype":{"polluted":"yes"}},"username":"admin"}`],
    ['__proto__ inside the root wrapper', `{"${LOGIN_ROOT}":{"__proto__":{"polluted":"yes"},"username":"admin"}}`],
  ];

  it.each(cases)('JSON with %s is 400 and pollutes nothing', async (_name, body) => {
    expect(loginError(await postLogin('application/json', body), 400, 1002)).toMatch(/__proto__|constructor|prototype/);
    expectPrototypeClean();
    await expectAlive();
  });

  const xmlCases: Array<[string, string]> = [
    ['a __proto__ attribute', `<${LOGIN_ROOT} username="admin" __proto__="x"/>`],
    ['a constructor attribute', `<${LOGIN_ROOT} username="admin" constructor="x"/>`],
    ['a __proto__ element', `<${LOGIN_ROOT} username="admin"><__proto__ polluted="yes"/></${LOGIN_ROOT}>`],
    [
      'constructor/prototype elements',
      `<${LOGIN_ROOT} username="admin"><constructor><prototype polluted="yes"/></constructor></${LOGIN_ROOT}>`,
    ],
    ['a prototype element', `<${LOGIN_ROOT} username="admin"><prototype polluted="yes"/></${LOGIN_ROOT}>`],
    ['a __proto__ root', '<__proto__ polluted="yes"/>'],
  ];

  it.each(xmlCases)('XML with %s is 400 and pollutes nothing', async (_name, body) => {
    loginError(await postLogin('application/xml', body), 400, 1001);
    expectPrototypeClean();
    await expectAlive();
  });

  it('a polluting user creation is refused and creates nobody', async () => {
    const token = await t.login();
    const body = `{"users":[{"userEntity":{"userName":"mallory"},"password":"${b64('Mallory-Passw0rd')}","__proto__":{"isAdmin":true}}]}`;
    const res = await post(`${BASE}/User`, 'application/json', body, { authtoken: token });
    expect(res.statusCode).toBe(400);
    expect(res.json().errorCode).toBe(1002);
    expectPrototypeClean();
    const users = await t.call('GET', '/User', token);
    expect(users.json().users.map((u: { userEntity: { userName: string } }) => u.userEntity.userName)).not.toContain(
      'mallory',
    );
  });
});

describe('wrong types', () => {
  const pw = b64(ADMIN_PASSWORD);
  const loginCases: Array<[string, Record<string, unknown>, string]> = [
    ['username as an object', { username: { name: 'admin' }, password: pw }, 'username'],
    ['username as an array', { username: ['admin'], password: pw }, 'username'],
    ['username as a number', { username: 12345, password: pw }, 'username'],
    ['username as a boolean', { username: true, password: pw }, 'username'],
    ['username as null', { username: null, password: pw }, 'username'],
    ['username missing', { password: pw }, 'username'],
    ['password as an object', { username: 'admin', password: { value: pw } }, 'password'],
    ['password as an array', { username: 'admin', password: [pw] }, 'password'],
    ['password as a number', { username: 'admin', password: 12345678 }, 'password'],
    ['deviceId as an object', { username: 'admin', password: pw, deviceId: {} }, 'deviceId'],
    ['mode as an object', { username: 'admin', password: pw, mode: { a: 1 } }, 'mode'],
    ['mode as an array of objects', { username: 'admin', password: pw, mode: [{}] }, 'mode'],
  ];

  it.each(loginCases)('Login with %s is 400 / 1000 naming the field', async (_name, body, field) => {
    expect(loginError(await jsonLogin(body), 400, 1000)).toContain(field);
    await expectAlive();
  });

  const user = (over: Record<string, unknown>) => ({
    userEntity: { userName: 'typed' },
    email: 'typed@example.com',
    password: b64('Typed-Passw0rd'),
    ...over,
  });
  const userCases: Array<[string, unknown, string]> = [
    ['users as a string', { users: 'typed' }, 'users'],
    ['users as an object', { users: user({}) }, 'users'],
    ['users as null', { users: null }, 'users'],
    ['users as a number', { users: 7 }, 'users'],
    ['users missing', {}, 'users'],
    ['an item as a string', { users: ['typed'] }, 'users/0'],
    ['userEntity as a string', { users: [user({ userEntity: 'typed' })] }, 'userEntity'],
    ['userName as a number', { users: [user({ userEntity: { userName: 4242 } })] }, 'userName'],
    ['userName as an array', { users: [user({ userEntity: { userName: ['typed'] } })] }, 'userName'],
    ['email as an array', { users: [user({ email: ['typed@example.com'] })] }, 'email'],
    ['email as a number', { users: [user({ email: 5 })] }, 'email'],
    ['associatedUserGroups as a string', { users: [user({ associatedUserGroups: 'Master' })] }, 'associatedUserGroups'],
    [
      'systemGeneratePassword as a word',
      { users: [user({ systemGeneratePassword: 'maybe' })] },
      'systemGeneratePassword',
    ],
  ];

  it.each(userCases)('POST User with %s is 400 / 1000 naming the field and creates nobody', async (_n, body, field) => {
    const token = await t.login();
    const names = async () =>
      (await t.call('GET', '/User', token))
        .json()
        .users.map((u: { userEntity: { userName: string } }) => u.userEntity.userName);
    const before = await names();
    const res = await post(`${BASE}/User`, 'application/json', JSON.stringify(body), { authtoken: token });
    expect(userPostError(res, 400, 1000)).toContain(field);
    expect(await names()).toEqual(before);
  });

  it('POST User/{id} with enableUser as a word, or two items, is 400 / 1000', async () => {
    const token = await t.login();
    const url = `${BASE}/User/1`;
    const word = await post(url, 'application/json', JSON.stringify({ users: [{ enableUser: 'maybe' }] }), {
      authtoken: token,
    });
    expect(userPostError(word, 400, 1000)).toContain('enableUser');
    const two = await post(url, 'application/json', JSON.stringify({ users: [{}, {}] }), { authtoken: token });
    expect(userPostError(two, 400, 1000)).toContain('users');
  });

  it('RenewLoginToken with sessionId as an object is 400 / 1000', async () => {
    const res = await post(`${BASE}/RenewLoginToken`, 'application/json', JSON.stringify({ sessionId: { a: 1 } }));
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ errorCode: 1000, errLogMessage: expect.stringContaining('sessionId') });
  });
});

describe('secrets: base64 in JSON, plain text in XML', () => {
  const bad: Array<[string, string]> = [
    ['a non-alphabet character', 'YWJj$GVm'],
    ['spaces inside', 'YWJj ZGVm'],
    ['the URL-safe alphabet', 'YWJj-_8='],
    ['wrong padding (one = too many)', 'YWJjZA==='],
    ['padding in the middle', 'YW==ZGVm'],
    ['missing padding', 'YWJjZA'],
    ['a length that is not a multiple of 4', 'YWJjZ'],
    ['a lone =', '='],
    ['non-ASCII characters', 'pässwörd'],
  ];
  const notUtf8: Array<[string, number[]]> = [
    ['0xff 0xfe', [0xff, 0xfe]],
    ['a truncated sequence', [0x61, 0xc3]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ];

  it.each(bad)('JSON Login with %s in the password is 400 / 1004', async (_name, secret) => {
    expect(loginError(await jsonLogin({ username: 'admin', password: secret }), 400, 1004)).toContain('password');
    await expectAlive();
  });

  it.each(notUtf8)('JSON Login with base64 of %s is 400 / 1004', async (_name, bytes) => {
    const secret = Buffer.from(bytes).toString('base64');
    expect(loginError(await jsonLogin({ username: 'admin', password: secret }), 400, 1004)).toMatch(/password.*UTF-8/);
  });

  it('bad base64 in POST User and POST User/{id} is 400 / 1004 naming the field', async () => {
    const token = await t.login();
    const create = await post(
      `${BASE}/User`,
      'application/json',
      JSON.stringify({ users: [{ userEntity: { userName: 'b64' }, password: 'not*base64' }] }),
      { authtoken: token },
    );
    expect(userPostError(create, 400, 1004)).toContain('users[0].password');
    const change = await post(
      `${BASE}/User/1`,
      'application/json',
      JSON.stringify({
        users: [
          {
            password: b64('New-Passw0rd!'),
            validationParameters: { password: Buffer.from([0xff]).toString('base64') },
          },
        ],
      }),
      { authtoken: token },
    );
    expect(userPostError(change, 400, 1004)).toContain('validationParameters.password');
    // Nothing changed: the old password still works.
    await expectAlive();
  });

  let unknownNames = 0;
  it.each([
    ...bad,
    ['base64 of 0xff 0xfe', '//4='],
  ])('the same characters in an XML Login (%s) are a plain-text password', async (_name, secret) => {
    const escaped = secret.replaceAll('&', '&amp;').replaceAll('"', '&quot;');
    // A name of its own per case: five failures of one name lock it (1102), and the app is shared.
    const res = await postLogin('application/xml', xmlLoginBody(`nobody-${++unknownNames}`, escaped));
    // A wrong password (1101), never a base64 error.
    loginError(res, 200, 1101);
  });

  it('a password made of base64-hostile characters, set in XML, logs in as plain text in XML and as base64 in JSON', async () => {
    const token = await t.login();
    const plain = 'Pa$$ w<r>d&"=/+ÿþ==';
    const escaped = 'Pa$$ w&lt;r&gt;d&amp;&quot;=/+ÿþ==';
    const body = `<App_CreateUserRequest>
      <users password="${escaped}" email="xml1@example.com"><userEntity userName="xmlone"/></users>
      <users password="${escaped}" email="xml2@example.com"><userEntity userName="xmltwo"/></users>
    </App_CreateUserRequest>`;
    const created = await post(`${BASE}/User`, 'application/xml', body, { authtoken: token });
    expect(created.statusCode, created.body).toBe(200);
    expect(created.json().response.map((r: { errorCode: number }) => r.errorCode)).toEqual([0, 0]);
    expectToken(await postLogin('application/xml', xmlLoginBody('xmlone', escaped), { accept: 'application/json' }));
    expectToken(await jsonLogin({ username: 'xmltwo', password: b64(plain) }));
    // The raw string is not base64, so in JSON it is refused, not decoded loosely.
    loginError(await jsonLogin({ username: 'xmltwo', password: plain }), 400, 1004);
  });

  it('an XML POST User with a single <users> element creates the user', async () => {
    const token = await t.login();
    const body = `<App_CreateUserRequest><users password="Single-Passw0rd" email="s@example.com"><userEntity userName="single"/></users></App_CreateUserRequest>`;
    const created = await post(`${BASE}/User`, 'application/xml', body, { authtoken: token });
    expect(created.statusCode, created.body).toBe(200);
    expect(created.json().response[0]).toMatchObject({ errorCode: 0, entity: { userName: 'single' } });
  });
});

describe('body size', () => {
  const tenMiB = 10 * MiB;

  it('a 10 MB JSON body is 413 / 1005, and the server still answers', async () => {
    const body = JSON.stringify({ username: 'admin', password: b64(ADMIN_PASSWORD), pad: 'x'.repeat(tenMiB) });
    const started = performance.now();
    loginError(await postLogin('application/json', body), 413, 1005);
    expect(performance.now() - started).toBeLessThan(2000);
    await expectAlive();
  });

  it('a 10 MB XML body is 413 / 1005, and the server still answers', async () => {
    const body = `<${LOGIN_ROOT} username="admin" pad="${'x'.repeat(tenMiB)}"/>`;
    loginError(await postLogin('application/xml', body), 413, 1005);
    await expectAlive();
  });

  it('a 10 MB body of an unknown type is refused without being read', async () => {
    const res = await postLogin('text/plain', 'x'.repeat(tenMiB));
    expect([413, 415]).toContain(res.statusCode);
    await expectAlive();
  });

  it('a streamed 10 MB body with no Content-Length is 413 / 1005', async () => {
    function* chunks() {
      yield Buffer.from('{"username":"admin","pad":"');
      for (let i = 0; i < 160; i++) yield Buffer.alloc(64 * 1024, 0x61);
      yield Buffer.from('"}');
    }
    loginError(await postLogin('application/json', Readable.from(chunks())), 413, 1005);
    await expectAlive();
  });

  it('on an authenticated route 413 keeps the route’s reply shape and the token stays valid', async () => {
    const token = await t.login();
    const body = JSON.stringify({ users: [{ userEntity: { userName: 'big' }, fullName: 'x'.repeat(tenMiB) }] });
    userPostError(await post(`${BASE}/User`, 'application/json', body, { authtoken: token }), 413, 1005);
    genericError(
      await post(`${BASE}/Logout`, 'application/xml', `<a>${'x'.repeat(tenMiB)}</a>`, { authtoken: token }),
      413,
      1005,
    );
    expect((await post(`${BASE}/WhoAmI`, null, undefined, { authtoken: token })).statusCode).toBe(200);
  });

  it('the limit is 1 MiB: exactly 1 MiB is read, one byte more is 413', async () => {
    const head = JSON.stringify({ username: 'admin', password: b64(ADMIN_PASSWORD), pad: '' });
    const exact = head.replace('"pad":""', `"pad":"${'x'.repeat(MiB - head.length)}"`);
    expect(Buffer.byteLength(exact)).toBe(MiB);
    expectToken(await postLogin('application/json', exact));
    const over = exact.replace('"pad":"', '"pad":"x');
    expect(Buffer.byteLength(over)).toBe(MiB + 1);
    loginError(await postLogin('application/json', over), 413, 1005);
  });

  it('a lying Content-Length is 400, not a hang or a 500', async () => {
    const body = JSON.stringify({ username: 'admin', password: b64(ADMIN_PASSWORD) });
    for (const length of ['3', String(body.length + 100)]) {
      const res = await postLogin('application/json', body, { 'content-length': length });
      expect(res.statusCode).toBe(400);
      expect(res.json().token).toBeUndefined();
    }
    await expectAlive();
  });
});

describe('media types', () => {
  const refused: Array<[string, string]> = [
    ['text/plain', 'username=admin'],
    ['application/x-www-form-urlencoded', `username=admin&password=${encodeURIComponent(b64(ADMIN_PASSWORD))}`],
    [
      'multipart/form-data; boundary=XyZ',
      '--XyZ\r\nContent-Disposition: form-data; name="username"\r\n\r\nadmin\r\n--XyZ--\r\n',
    ],
    ['application/octet-stream', 'admin'],
    ['text/html', '<html></html>'],
    ['application/jsonx', '{"username":"admin"}'],
    ['application/json-patch+json', '[]'],
    ['application/soap+xml', xmlLoginBody('admin', ADMIN_PASSWORD)],
    ['application/xml-dtd', '<!ELEMENT a ANY>'],
    ['application/json, text/plain', '{"username":"admin"}'],
    ['json', '{"username":"admin"}'],
  ];

  it.each(refused)('%s is 415 / 1006', async (type, body) => {
    loginError(await postLogin(type, body), 415, 1006);
    await expectAlive();
  });

  it.each(refused)('%s on an authenticated route is 415 / 1006 as App_GenericResp', async (type, body) => {
    const token = await t.login();
    genericError(await post(`${BASE}/Logout`, type, body, { authtoken: token }), 415, 1006);
    expect((await post(`${BASE}/WhoAmI`, null, undefined, { authtoken: token })).statusCode).toBe(200);
  });

  it('a body with no Content-Type is 415 / 1006', async () => {
    const json = JSON.stringify({ username: 'admin', password: b64(ADMIN_PASSWORD) });
    loginError(await postLogin(null, json), 415, 1006);
    loginError(await postLogin(null, Buffer.from(xmlLoginBody('admin', ADMIN_PASSWORD))), 415, 1006);
    loginError(await postLogin('', json), 415, 1006);
    await expectAlive();
  });

  it('no body and no Content-Type is fine where no body is needed', async () => {
    const token = await t.login();
    expect((await post(`${BASE}/WhoAmI`, null, undefined, { authtoken: token })).statusCode).toBe(200);
    const out = await post(`${BASE}/Logout`, null, undefined, { authtoken: token });
    expect(out.statusCode).toBe(200);
    expect(out.json().errorCode).toBe(0);
  });

  it.each([
    'application/json; charset=utf-8',
    'Application/JSON',
    'application/json;charset=UTF-8',
  ])('%s is read as JSON', async (type) => {
    expectToken(await postLogin(type, JSON.stringify({ username: 'admin', password: b64(ADMIN_PASSWORD) })));
  });

  it.each([
    'application/xml; charset=utf-8',
    'text/xml',
    'text/xml; charset=UTF-8',
    'APPLICATION/XML',
  ])('%s is read as XML', async (type) => {
    expectToken(await postLogin(type, xmlLoginBody('admin', ADMIN_PASSWORD), { accept: 'application/json' }));
  });

  it('a Content-Type with 20,000 parameters is handled quickly', async () => {
    const started = performance.now();
    const type = `application/json; ${'a=b; '.repeat(20_000)}charset=utf-8`;
    const res = await postLogin(type, JSON.stringify({ username: 'admin', password: b64(ADMIN_PASSWORD) }));
    expect(performance.now() - started).toBeLessThan(2000);
    expect([200, 400, 415]).toContain(res.statusCode);
    await expectAlive();
  });
});

describe('empty bodies', () => {
  it.each([
    ['application/json', ''],
    ['application/xml', ''],
    ['text/xml', '   \n  '],
    ['application/json', ' \r\n '],
  ])('Logout with %s and an empty body succeeds and ends the session', async (type, body) => {
    const token = await t.login();
    const res = await post(`${BASE}/Logout`, type, body, { authtoken: token });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ errorCode: 0, errorMessage: 'User logged out' });
    const after = await post(`${BASE}/WhoAmI`, null, undefined, { authtoken: token });
    expect(after.statusCode).toBe(401);
  });

  it.each(['application/json', 'application/xml'])('WhoAmI with %s and an empty body answers', async (type) => {
    const token = await t.login();
    const res = await post(`${BASE}/WhoAmI`, type, '', { authtoken: token });
    expect(res.statusCode).toBe(200);
    expect(res.json().user.userName).toBe('admin');
  });

  it.each(['application/json', 'application/xml'])('Login with %s and an empty body is 400 / 1000', async (type) => {
    expect(loginError(await postLogin(type, ''), 400, 1000)).toContain('username');
  });
});

describe('deep nesting', () => {
  it.each([10_000, 100_000])('JSON arrays %i levels deep are 400, not 500', async (depth) => {
    const body = `{"username":"admin","x":${nested('[', ']', depth)}}`;
    loginError(await postLogin('application/json', body), 400, 1002);
    await expectAlive();
  });

  it.each([10_000, 50_000])('JSON objects %i levels deep are 400, not 500', async (depth) => {
    const body = `{"username":"admin","x":${nested('{"a":', '}', depth, '1')}}`;
    loginError(await postLogin('application/json', body), 400, 1002);
    await expectAlive();
  });

  it('deep JSON on an authenticated route is 400, and the token still works', async () => {
    const token = await t.login();
    const res = await post(`${BASE}/Logout`, 'application/json', nested('[', ']', 10_000), { authtoken: token });
    genericError(res, 400, 1002);
    expect((await post(`${BASE}/WhoAmI`, null, undefined, { authtoken: token })).statusCode).toBe(200);
  });

  it('moderate nesting (20 levels) is still accepted', async () => {
    const body = JSON.stringify({
      username: 'admin',
      password: b64(ADMIN_PASSWORD),
      x: JSON.parse(nested('{"a":', '}', 20, '[1]')),
    });
    expectToken(await postLogin('application/json', body));
  });

  it.each([10_000, 100_000])('XML %i levels deep is 400 / 1001, not 500', async (depth) => {
    const body = `<${LOGIN_ROOT} username="admin">${nested('<a>', '</a>', depth)}</${LOGIN_ROOT}>`;
    loginError(await postLogin('application/xml', body), 400, 1001);
    await expectAlive();
  });

  it('many siblings (100,000 elements) are handled without a crash', async () => {
    const token = await t.login();
    const body = `<App_CreateUserRequest>${'<users/>'.repeat(100_000)}</App_CreateUserRequest>`;
    const res = await post(`${BASE}/User`, 'application/xml', body, { authtoken: token });
    expect(userPostError(res, 400, 1000)).toContain('users');
    await expectAlive();
  });
});

describe('headers', () => {
  it('a 100,000-character Authtoken is 401 / 1100, quickly', async () => {
    const started = performance.now();
    for (const token of [`QSDK ${'a'.repeat(100_000)}`, 'x'.repeat(100_000)]) {
      genericError(await post(`${BASE}/WhoAmI`, null, undefined, { authtoken: token }), 401, 1100);
    }
    expect(performance.now() - started).toBeLessThan(2000);
    await expectAlive();
  });

  it('a valid token with junk appended is not accepted', async () => {
    const token = await t.login();
    // (Surrounding whitespace is not part of a header value, so it is not junk.)
    for (const junk of ['x', 'x'.repeat(10_000), '\t0', '0', 'A']) {
      const res = await post(`${BASE}/WhoAmI`, null, undefined, { authtoken: token + junk });
      expect(res.statusCode).toBe(401);
    }
    expect((await post(`${BASE}/WhoAmI`, null, undefined, { authtoken: token })).statusCode).toBe(200);
  });

  it('a 100,000-character Accept header still negotiates', async () => {
    const token = await t.login();
    const accept = `${'text/html;q=0.1, '.repeat(6_000)}application/xml`;
    const res = await post(`${BASE}/WhoAmI`, null, undefined, { authtoken: token, accept });
    expect(res.statusCode).toBe(200);
    expect(readXml(res).CvEntities_ProcessingInstructionInfo.user.userName).toBe('admin');
  });

  it('a 1 MB unknown header is ignored', async () => {
    const token = await t.login();
    const res = await post(`${BASE}/WhoAmI`, null, undefined, { authtoken: token, 'x-junk': 'j'.repeat(MiB) });
    expect(res.statusCode).toBe(200);
  });
});

describe('error replies follow Accept', () => {
  const token = async () => t.login();
  const refusals: Array<[string, number, number, (tok: string, accept: string) => Promise<LightMyRequestResponse>]> = [
    [
      'malformed XML',
      400,
      1001,
      (tok, accept) => post(`${BASE}/Logout`, 'application/xml', '<a', { authtoken: tok, accept }),
    ],
    [
      'malformed JSON',
      400,
      1002,
      (tok, accept) => post(`${BASE}/Logout`, 'application/json', '{"a"', { authtoken: tok, accept }),
    ],
    [
      'a forbidden key (quotes in the message)',
      400,
      1002,
      (tok, accept) => post(`${BASE}/Logout`, 'application/json', '{"__proto__":{}}', { authtoken: tok, accept }),
    ],
    [
      'a DOCTYPE',
      400,
      1003,
      (tok, accept) => post(`${BASE}/Logout`, 'application/xml', '<!DOCTYPE a><a/>', { authtoken: tok, accept }),
    ],
    [
      'a body too large',
      413,
      1005,
      (tok, accept) =>
        post(`${BASE}/Logout`, 'application/json', `"${'x'.repeat(2 * MiB)}"`, { authtoken: tok, accept }),
    ],
    [
      'a wrong media type',
      415,
      1006,
      (tok, accept) => post(`${BASE}/Logout`, 'text/plain', 'x', { authtoken: tok, accept }),
    ],
    ['no Authtoken', 401, 1100, (_tok, accept) => post(`${BASE}/Logout`, null, undefined, { accept })],
  ];

  it.each(refusals)('%s: App_GenericResp in XML when Accept asks for XML', async (_name, status, code, run) => {
    for (const accept of ['application/xml', 'text/xml', 'application/json;q=0.5, application/xml']) {
      const res = await run(await token(), accept);
      expect(res.statusCode).toBe(status);
      expect(res.body).toMatch(/<App_GenericResp errorCode="\d+" errorMessage="[^"]*"\/>$/);
      const reply = readXml(res).App_GenericResp;
      expect(reply.errorCode).toBe(String(code));
      expect(reply.errorMessage.length).toBeGreaterThan(0);
    }
  });

  it.each(refusals)('%s: the same reply as JSON otherwise', async (_name, status, code, run) => {
    for (const accept of ['', 'application/json', '*/*', 'text/html', 'application/xml;q=0']) {
      const res = await run(await token(), accept);
      genericError(res, status, code);
      expect(Object.keys(res.json()).sort()).toEqual(['errorCode', 'errorMessage']);
    }
  });

  it('XML and JSON carry the same message, quotes and all', async () => {
    const tok = await token();
    const body = '{"__proto__":{}}';
    const json = await post(`${BASE}/Logout`, 'application/json', body, { authtoken: tok });
    const xml = await post(`${BASE}/Logout`, 'application/json', body, { authtoken: tok, accept: 'application/xml' });
    expect(readXml(xml).App_GenericResp.errorMessage).toBe(json.json().errorMessage);
    expect(json.json().errorMessage).toContain('"__proto__"');
  });

  it('Login errors follow Accept in Login’s own shape', async () => {
    const res = await postLogin('application/xml', '<oops', { accept: 'application/xml' });
    expect(res.statusCode).toBe(400);
    const reply = readXml(res).DM2ContentIndexing_CheckCredentialResp;
    expect(reply.errList.errorCode).toBe('1001');
    expect(reply.errList.errLogMessage).toMatch(/line \d+, column \d+/);
    expect(reply.token).toBeUndefined();
  });
});

describe('Accept negotiation', () => {
  const cases: Array<[string, 'xml' | 'json']> = [
    ['application/xml', 'xml'],
    ['text/xml', 'xml'],
    ['APPLICATION/XML', 'xml'],
    ['application/xml; charset=utf-8', 'xml'],
    ['application/json', 'json'],
    ['*/*', 'json'],
    ['application/*', 'json'],
    ['text/html', 'json'],
    ['image/png, text/html;q=0.9', 'json'],
    ['text/html, application/xml;q=0.1', 'xml'],
    ['application/xml;q=0.5, application/json', 'json'],
    ['application/json;q=0.2, application/xml;q=0.9', 'xml'],
    ['application/json;q=0.9, text/xml', 'xml'],
    ['application/xml;q=0', 'json'],
    ['application/xml;q=0, */*', 'json'],
    ['application/xml;q=abc', 'json'],
    ['*/*;q=0.1, application/xml', 'xml'],
    [';;;,,,===', 'json'],
    ['', 'json'],
  ];

  it.each(cases)('Accept "%s" answers %s', async (accept, want) => {
    const token = await t.login();
    const res = await post(`${BASE}/WhoAmI`, null, undefined, { authtoken: token, accept });
    expect(res.statusCode).toBe(200);
    if (want === 'xml') {
      expect(readXml(res).CvEntities_ProcessingInstructionInfo.user.userName).toBe('admin');
    } else {
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json().user.userName).toBe('admin');
    }
  });

  it('an XML login answers JSON without Accept and XML with it', async () => {
    const body = xmlLoginBody('admin', ADMIN_PASSWORD);
    expectToken(await postLogin('application/xml', body));
    const xml = await postLogin('application/xml', body, { accept: 'text/xml' });
    expect(readXml(xml).DM2ContentIndexing_CheckCredentialResp.token).toMatch(/^QSDK /);
  });
});

describe('message names and key spellings', () => {
  const pw = b64(ADMIN_PASSWORD);

  it('JSON wrapped in the root name logs in', async () => {
    expectToken(
      await jsonLogin({ [LOGIN_ROOT]: { mode: 4, username: 'admin', password: pw, deviceId: 'd', clientType: 30 } }),
    );
  });

  it('_-prefixed keys log in, bare and wrapped', async () => {
    expectToken(await jsonLogin({ _username: 'admin', _password: pw }));
    expectToken(await jsonLogin({ [LOGIN_ROOT]: { _username: 'admin', _password: pw, _deviceId: 'd' } }));
  });

  it('the plain key wins over its _-prefixed twin, whatever the order', async () => {
    expectToken(await jsonLogin({ _username: 'nobody', username: 'admin', password: pw }));
    expectToken(await jsonLogin({ username: 'admin', _username: 'nobody', password: pw, _password: b64('wrong') }));
  });

  it('a wrapper that is not this message’s name is not unwrapped', async () => {
    const res = await jsonLogin({ App_SetPasskeyRequest: { username: 'admin', password: pw } });
    expect(loginError(res, 400, 1000)).toContain('username');
    const arr = await jsonLogin({ [LOGIN_ROOT]: [{ username: 'admin', password: pw }] });
    loginError(arr, 400, 1000);
  });

  it.each([
    ['another message', `<App_SetPasskeyRequest username="admin" password="${ADMIN_PASSWORD}"/>`],
    ['the reply’s name', `<DM2ContentIndexing_CheckCredentialResp username="admin" password="${ADMIN_PASSWORD}"/>`],
    ['a namespace prefix', `<ns:${LOGIN_ROOT} xmlns:ns="urn:x" username="admin" password="${ADMIN_PASSWORD}"/>`],
    ['a generic name', `<request username="admin" password="${ADMIN_PASSWORD}"/>`],
  ])('XML Login under %s is 400 / 1007', async (_name, body) => {
    expect(loginError(await postLogin('application/xml', body), 400, 1007)).toContain(LOGIN_ROOT);
    await expectAlive();
  });
});

describe('everything at once', () => {
  it('a burst of hostile requests on both mount points leaves the server serving', async () => {
    const token = await t.login();
    const hostile: InjectOptions[] = [];
    for (const base of BASES) {
      hostile.push(
        { method: 'POST', url: `${base}/Login`, headers: { 'content-type': 'application/xml' }, payload: '<a' },
        {
          method: 'POST',
          url: `${base}/Login`,
          headers: { 'content-type': 'application/xml' },
          payload: `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>`,
        },
        {
          method: 'POST',
          url: `${base}/Login`,
          headers: { 'content-type': 'application/json' },
          payload: '{"__proto__":{"polluted":1}}',
        },
        {
          method: 'POST',
          url: `${base}/Login`,
          headers: { 'content-type': 'application/json' },
          payload: nested('[', ']', 20_000),
        },
        { method: 'POST', url: `${base}/Login`, headers: { 'content-type': 'text/plain' }, payload: 'x' },
        {
          method: 'POST',
          url: `${base}/Logout`,
          headers: { 'content-type': 'application/json', authtoken: token },
          payload: 'y'.repeat(2 * MiB),
        },
        { method: 'POST', url: `${base}/WhoAmI`, headers: { authtoken: 'z'.repeat(50_000) } },
      );
    }
    const results = await Promise.all(hostile.map((o) => send(o)));
    expect(results.map((r) => r.statusCode)).toEqual([
      400, 400, 400, 400, 415, 413, 401, 400, 400, 400, 400, 415, 413, 401,
    ]);
    expectPrototypeClean();
    expect((await post(`${BASE}/WhoAmI`, null, undefined, { authtoken: token })).statusCode).toBe(200);
    await expectAlive();
  });
});
