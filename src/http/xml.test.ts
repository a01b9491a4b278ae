import { SaxesParser } from 'saxes';
import { describe, expect, it } from 'vitest';
import { buildXml, parseXmlMessage, xmlName } from './xml.js';

/** A strict parse (saxes throws on anything not well-formed XML 1.0): the root's attributes and elements. */
function strict(xml: string) {
  const parser = new SaxesParser({ xmlns: true });
  const elements: Array<{ name: string; attributes: Record<string, string> }> = [];
  const texts: string[] = [];
  parser.on('opentag', (t) => {
    const attributes: Record<string, string> = {};
    for (const [k, a] of Object.entries(t.attributes)) attributes[k] = typeof a === 'string' ? a : a.value;
    elements.push({ name: t.name, attributes });
  });
  parser.on('text', (t) => texts.push(t));
  parser.write(xml).close();
  return { elements, texts };
}

describe('buildXml', () => {
  it('writes true and false as attribute values, never as bare attributes', () => {
    const xml = buildXml('R', { users: [{ enableUser: true, locked: false, n: 0 }] });
    expect(xml).toBe('<?xml version="1.0" encoding="UTF-8"?><R><users enableUser="true" locked="false" n="0"/></R>');
    expect(strict(xml).elements[1]?.attributes).toEqual({ enableUser: 'true', locked: 'false', n: '0' });
  });

  it('keeps the CommServe shape: scalars as attributes, objects as elements, arrays repeated, scalar lists as text', () => {
    const xml = buildXml('App_Resp', {
      errorCode: 0,
      entity: { id: 3, name: 'db01' },
      items: [{ a: 1 }, { a: 2 }],
      tags: ['x', '', 'y'],
      nothing: null,
      missing: undefined,
      empty: {},
      none: [],
    });
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><App_Resp errorCode="0"><entity id="3" name="db01"/>' +
        '<items a="1"/><items a="2"/><tags>x</tags><tags/><tags>y</tags><empty/></App_Resp>',
    );
  });

  it('escapes markup, and keeps tab, line feed and carriage return through attribute normalization', () => {
    const text = 'a&b<c>d"e\'f\tg\nh\ri';
    const xml = buildXml('R', { v: text, list: [text] });
    strict(xml);
    const parsed = parseXmlMessage(xml);
    expect(parsed.value.v).toBe(text);
    // Element text: the parser trims, but the characters survive as written.
    expect(strict(xml).texts).toEqual([text]);
  });

  it('writes characters XML 1.0 cannot hold as U+FFFD, so the reply stays well-formed', () => {
    const bad = `a\u0000b\u0001c\u0008d\u000be\u000cf\u001fg\ud800h\udfffi\ufffej\uffffk`;
    const xml = buildXml('R', { name: bad, list: [bad], nested: { description: bad } });
    const { elements, texts } = strict(xml);
    const clean = 'a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffdg\ufffdh\ufffdi\ufffdj\ufffdk';
    expect(elements[0]?.attributes.name).toBe(clean);
    expect(elements[2]?.attributes.description).toBe(clean);
    expect(texts).toEqual([clean]);
  });

  it('keeps what XML 1.0 allows: paired surrogates, C1 controls, DEL, non-Latin text', () => {
    const ok = 'emoji 😀 \u0085\u007f ünïcødé 名前';
    const xml = buildXml('R', { v: ok });
    expect(strict(xml).elements[0]?.attributes.v).toBe(ok);
  });

  it('turns keys that are not XML names into names, and keeps attributes distinct', () => {
    for (const key of ['', '1x', 'a b', '#text', '@_x', '?xml', '!--', 'a:b', 'x"y', '<', '-a', 'ok.name-1', 'é']) {
      const name = xmlName(key);
      expect(() => strict(`<${name}/>`), key).not.toThrow();
    }
    expect(xmlName('userName')).toBe('userName');
    expect(xmlName('a b')).toBe('a_b');
    expect(xmlName('1x')).toBe('_1x');
    const xml = buildXml('1 root', { 'a b': 1, a_b: 2, 'a b c': { '#text': 'x', '?pi': 1 }, '': [1] });
    const { elements } = strict(xml);
    expect(elements[0]?.name).toBe('_1_root');
    expect(elements[0]?.attributes).toEqual({ a_b: '1', a_b_2: '2' });
    expect(elements.map((e) => e.name)).toEqual(['_1_root', 'a_b_c', '_']);
  });

  it('writes dates as ISO-8601 text', () => {
    const xml = buildXml('R', { at: new Date('2026-11-23T08:00:00.000Z') });
    expect(strict(xml).elements[0]?.attributes.at).toBe('2026-11-23T08:00:00.000Z');
  });
});
