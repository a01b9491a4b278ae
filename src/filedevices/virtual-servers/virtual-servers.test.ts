import { describe, expect, it } from 'vitest';
import { ADMIN_BASIC, ADMIN_SUBSYSTEM, createVs, fd, mintKey } from '../../../test/filedevices.js';
import { type TestApp, withApp } from '../../../test/harness.js';

let t: TestApp;
withApp((app) => {
  t = app;
});

// The calls HNASFileServer (hitachi-vantara/vspone-file-ansible, hnas_main.py)
// made against a running Bulwark with api_url=http://127.0.0.1:18113/v9, in
// order, for create_virtual_server with two addresses, get_virtual_servers by
// name and by id, delete_virtual_server of one address (then of the last,
// refused by the client itself), set_virtual_server_state DISABLED/ONLINE and
// delete_virtual_server; pinned here as the wire shapes it reads.
describe('virtual servers as HNASFileServer calls them', () => {
  for (const [label, auth] of [
    ['an API key', 'key'],
    ['X-Subsystem-User', 'subsystem'],
  ] as const) {
    it(`create, list and filter, add and remove an address, disable, enable, delete, with ${label}`, async () => {
      const a = auth === 'key' ? { key: (await mintKey(t, { restApiAccess: 'FULL_CONTROL' })).key } : ADMIN_SUBSYSTEM;
      // get_virtual_servers(name=...) before creating: an empty list.
      expect((await fd(t, 'GET', 'virtual-servers?name=evs1', a)).json()).toEqual({ virtualServers: [] });
      const created = await fd(t, 'POST', 'virtual-servers', a, {
        name: 'evs1',
        nodeId: 1,
        ipAddress: '10.0.0.1',
        netmask: '255.255.255.0',
        port: 'ag1',
      });
      expect(created.statusCode).toBe(201);
      const vs = created.json().virtualServer;
      expect(vs).toEqual({
        UUID: expect.stringMatching(/^[0-9a-f-]{36}$/),
        ipAddresses: ['10.0.0.1'],
        isEnabled: true,
        name: 'evs1',
        nodeId: 1,
        objectId: '313a3a3a4f49445f24232140255f56',
        status: 'ONLINE',
        type: 'FILE_SERVER',
        virtualServerId: 1,
      });
      // add_vitual_server_address: POST {virtualServerId}/ip-addresses → 204; IPv6 stored as the client compares it (lower case).
      const add = await fd(t, 'POST', 'virtual-servers/1/ip-addresses', a, {
        ipAddress: 'FE80::2',
        netmask: '64',
        port: 'ag2',
      });
      expect(add.statusCode).toBe(204);
      expect(add.body).toBe('');
      const byName = (await fd(t, 'GET', 'virtual-servers?name=EVS1', a)).json();
      expect(byName.virtualServers[0].ipAddresses).toEqual(['10.0.0.1', 'fe80::2']);
      const byId = (await fd(t, 'GET', 'virtual-servers?virtualServerId=1', a)).json();
      expect(byId).toEqual(byName);
      expect((await fd(t, 'GET', 'virtual-servers?virtualServerId=1&name=other', a)).json().virtualServers).toEqual([]);
      // delete_virtual_server_address: DELETE {virtualServerId}/ip-addresses/{address} → 204; the last one is refused.
      expect((await fd(t, 'DELETE', 'virtual-servers/1/ip-addresses/10.0.0.1', a)).statusCode).toBe(204);
      const last = await fd(t, 'DELETE', 'virtual-servers/1/ip-addresses/fe80::2', a);
      expect(last.statusCode).toBe(409);
      expect(last.json().errorCode).toBe('LAST_ADDRESS');
      // set_virtual_server_state: POST {objectId}/disable|enable with an empty JSON body → 204.
      for (const [action, status] of [
        ['disable', 'DISABLED'],
        ['enable', 'ONLINE'],
      ]) {
        const res = await t.inject({
          method: 'POST',
          url: `/v9/storage/virtual-servers/${vs.objectId}/${action}`,
          headers: {
            'content-type': 'application/json',
            'content-length': '0',
            ...(auth === 'key'
              ? { 'x-api-key': (a as { key: string }).key }
              : { 'x-subsystem-user': 'admin', 'x-subsystem-password': 'Admin-Passw0rd!' }),
          },
        });
        expect(res.statusCode, res.body).toBe(204);
        expect((await fd(t, 'GET', 'virtual-servers/evs1', a)).json().virtualServer.status).toBe(status);
      }
      // DELETE only when disabled.
      const enabled = await fd(t, 'DELETE', 'virtual-servers/1', a);
      expect(enabled.statusCode).toBe(409);
      expect(enabled.json().errorCode).toBe('VIRTUAL_SERVER_ENABLED');
      expect((await fd(t, 'POST', 'virtual-servers/1/disable', a)).statusCode).toBe(204);
      expect((await fd(t, 'DELETE', 'virtual-servers/1', a)).statusCode).toBe(204);
      expect((await fd(t, 'GET', 'virtual-servers', a)).json()).toEqual({ virtualServers: [] });
    });
  }

  it('GET file-devices and file-devices/ethernet-interfaces answer what the client reads', async () => {
    const dev = (await fd(t, 'GET', 'file-devices', ADMIN_BASIC)).json();
    expect(dev.fileDevice).toMatchObject({ apiVersion: 'v9' });
    const eth = (await fd(t, 'GET', 'file-devices/ethernet-interfaces', ADMIN_BASIC)).json().ethernetInterfaces;
    expect(eth.filter((e: any) => e.isVirtualServerIpAllowed).map((e: any) => e.name)).toEqual(['ag1', 'ag2']);
    expect(eth.filter((e: any) => e.isAggregationAllowed).map((e: any) => e.name)).toEqual(['tg1', 'tg2']);
  });

  it('PATCH renames; every error answers in the envelope', async () => {
    await createVs(t, 'evs1', '10.0.0.1');
    await createVs(t, 'evs2', '10.0.0.2');
    expect((await fd(t, 'PATCH', 'virtual-servers/evs2', ADMIN_BASIC, { name: 'evs-two', nodeId: 2 })).statusCode).toBe(
      204,
    );
    expect((await fd(t, 'GET', 'virtual-servers/2', ADMIN_BASIC)).json().virtualServer).toMatchObject({
      name: 'evs-two',
      nodeId: 2,
    });
    const body = (over: Record<string, unknown>) => ({
      name: 'x',
      nodeId: 1,
      ipAddress: '10.0.0.9',
      netmask: '255.255.255.0',
      port: 'ag1',
      ...over,
    });
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', 'virtual-servers', body({ name: 'EVS1' }), 409, 'ALREADY_EXISTS'],
      ['POST', 'virtual-servers', body({ ipAddress: '10.0.0.2' }), 409, 'ADDRESS_IN_USE'],
      ['POST', 'virtual-servers', body({ ipAddress: '10.0.0.256' }), 400, 'INVALID_INPUT'],
      ['POST', 'virtual-servers', body({ ipAddress: '010.0.0.1' }), 400, 'INVALID_INPUT'],
      ['POST', 'virtual-servers', body({ ipAddress: 'fe80::1%eth0' }), 400, 'INVALID_INPUT'],
      ['POST', 'virtual-servers', body({ netmask: '255.0.255.0' }), 400, 'INVALID_INPUT'],
      ['POST', 'virtual-servers', body({ port: 'tg1' }), 400, 'INVALID_INPUT'],
      ['POST', 'virtual-servers', body({ nodeId: 9 }), 400, 'INVALID_INPUT'],
      ['POST', 'virtual-servers', body({ name: 'a\u202eb' }), 400, 'INVALID_INPUT'],
      ['POST', 'virtual-servers', { name: 'x' }, 400, 'INVALID_INPUT'],
      ['PATCH', 'virtual-servers/2', { name: 'evs1' }, 409, 'ALREADY_EXISTS'],
      ['GET', 'virtual-servers/99', undefined, 404, 'NOT_FOUND'],
      ['GET', 'virtual-servers?virtualServerId=abc', undefined, 400, 'INVALID_INPUT'],
      ['POST', 'virtual-servers/99/enable', undefined, 404, 'NOT_FOUND'],
      ['DELETE', 'virtual-servers/1/ip-addresses/10.0.0.7', undefined, 404, 'NOT_FOUND'],
      [
        'POST',
        'virtual-servers/1/ip-addresses',
        { ipAddress: '10.0.0.2', netmask: '24', port: 'ag1' },
        409,
        'ADDRESS_IN_USE',
      ],
    ];
    for (const [method, path, b, status, code] of cases) {
      const res = await fd(t, method, path, ADMIN_BASIC, b);
      expect(res.statusCode, `${method} ${path} ${JSON.stringify(b)}: ${res.body}`).toBe(status);
      expect(res.json().errorCode).toBe(code);
    }
  });

  it('a key restricted to virtual servers sees only those: lists filtered, other ids 404, no creating', async () => {
    await createVs(t, 'evs1', '10.0.0.1');
    const other = await createVs(t, 'evs2', '10.0.0.2');
    const k = (await mintKey(t, { restApiAccess: 'FULL_CONTROL', restrictedToVirtualServers: ['evs1'] })).key;
    const list = (await fd(t, 'GET', 'virtual-servers', { key: k })).json().virtualServers;
    expect(list.map((v: any) => v.name)).toEqual(['evs1']);
    expect((await fd(t, 'GET', 'virtual-servers?name=evs2', { key: k })).json().virtualServers).toEqual([]);
    for (const [method, path] of [
      ['GET', `virtual-servers/${other.objectId}`],
      ['GET', 'virtual-servers/evs2'],
      ['POST', 'virtual-servers/2/disable'],
      ['DELETE', 'virtual-servers/2'],
    ]) {
      expect((await fd(t, method as string, path as string, { key: k })).statusCode).toBe(404);
    }
    expect((await fd(t, 'POST', 'virtual-servers/1/disable', { key: k })).statusCode).toBe(204);
    const make = await fd(
      t,
      'POST',
      'virtual-servers',
      { key: k },
      { name: 'n', ipAddress: '10.0.0.5', netmask: '24', port: 'ag1' },
    );
    expect(make.statusCode).toBe(403);
  });
});
