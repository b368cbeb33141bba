import { describe, expect, it } from 'vitest';
import { MAX_SINCE_URL_LENGTH, appendSince, attemptUrl } from '../../src/client/attempt-url.js';
import { parseSince, streamEnvelope, subscribedEnvelope } from '../../src/index.js';
import { decodeEnvelope } from '../../src/resume.wire.js';

const lobby = { offset: 12, epoch: '9f2c' };

describe('the resume wire convention', () => {
  it('a publication: the text as `data`, with topic and position, decoded back as it was', () => {
    const text = JSON.stringify({ type: 'said', text: 'a "quote" and \\ and ünïcode' });
    const frame = streamEnvelope(text, lobby, 'chat:lobby') as string;
    expect(JSON.parse(frame)).toEqual({ topic: 'chat:lobby', ...lobby, data: text });
    expect(decodeEnvelope(frame)).toEqual({ topic: 'chat:lobby', position: lobby, data: text });
  });

  it('binary publications go out as they are', () => {
    const data = Buffer.from([1, 2, 3]);
    expect(streamEnvelope(data, lobby, 'bin')).toBe(data);
  });

  it('the subscribe reply: position and recovered, with the reason when false; none without history', () => {
    const ok = subscribedEnvelope('a', { recovered: true, replayed: 2, position: lobby })!;
    expect(decodeEnvelope(ok)).toEqual({
      topic: 'a',
      position: lobby,
      recovered: true,
      reason: undefined,
    });
    const lost = subscribedEnvelope('a', {
      recovered: false,
      reason: 'epoch',
      replayed: 0,
      position: lobby,
    })!;
    expect(decodeEnvelope(lost)).toMatchObject({ recovered: false, reason: 'epoch' });
    expect(subscribedEnvelope('a', { recovered: true, replayed: 0, position: undefined })).toBe(
      undefined,
    );
  });

  it("the app's own frames are not envelopes", () => {
    for (const frame of [
      'hello',
      '{"type":"members"}',
      '{"topic":"a"}',
      '{"topic":"a","offset":"1","epoch":"e","data":"x"}',
      '{"topic":"a","offset":1,"epoch":"e"}',
      '{"topic":',
    ]) {
      expect(decodeEnvelope(frame)).toBeUndefined();
    }
  });

  it('since: one parameter per topic, topics with ":" included, parsed back into StreamPositions', async () => {
    const positions = new Map([
      ['chat:lobby', lobby],
      ['news', { offset: 0, epoch: 'ab' }],
    ]);
    const url = await attemptUrl('ws://h/feed?room=x', positions);
    expect(url).toBe('ws://h/feed?room=x&since=12%3A9f2c%3Achat%3Alobby&since=0%3Aab%3Anews');
    expect(parseSince(new URL(url).searchParams)).toEqual(positions);
    expect(parseSince(new URL(url).search)).toEqual(positions);
  });

  it('since: positions go in, in order, only while the URL stays within MAX_SINCE_URL_LENGTH', async () => {
    for (const start of ['ws://h/feed', 'ws://h/feed?room=x']) {
      const positions = new Map(
        Array.from({ length: 1000 }, (_, i) => [`t:${i} é&=%`, { offset: i, epoch: 'e9f2c' }]),
      );
      const url = await attemptUrl(start, positions);
      const sent = [...parseSince(new URL(url).search).keys()];
      expect(url.length).toBeLessThanOrEqual(MAX_SINCE_URL_LENGTH);
      expect(sent).toEqual([...positions.keys()].slice(0, sent.length));
      const onceMore = new URL(url);
      onceMore.searchParams.append(
        'since',
        `${sent.length}:e9f2c:${[...positions.keys()][sent.length]}`,
      );
      expect(onceMore.href.length).toBeGreaterThan(MAX_SINCE_URL_LENGTH); // as many as fit
    }
  });

  it('since: malformed values resume nothing', () => {
    const query = 'since=x:e:a&since=1:b&since=-1:e:c&since=1::d&since=3:e:ok';
    expect([...parseSince(query)]).toEqual([['ok', { offset: 3, epoch: 'e' }]]);
  });
});

describe('the URL of each attempt', () => {
  it('calls a URL function for every attempt and adds the positions it has then', async () => {
    let calls = 0;
    const source = () => `ws://host-${++calls}/feed`;
    const positions = new Map<string, { offset: number; epoch: string }>();
    expect(await attemptUrl(source, positions)).toBe('ws://host-1/feed');
    positions.set('a', { offset: 1, epoch: 'e' });
    expect(await attemptUrl(source, positions)).toBe('ws://host-2/feed?since=1%3Ae%3Aa');
    expect(await attemptUrl(async () => new URL('wss://async/x'), new Map())).toBe('wss://async/x');
  });

  it("relative URLs resolve against the page's address, http(s) becoming ws(s)", async () => {
    expect(await attemptUrl('/chat?room=a', new Map(), appendSince, 'https://example.com/p')).toBe(
      'wss://example.com/chat?room=a',
    );
    expect(await attemptUrl('http://h:8/c', new Map())).toBe('ws://h:8/c');
  });

  it('another encoder replaces the default', async () => {
    const positions = new Map([['a', lobby]]);
    const url = await attemptUrl('ws://h/', positions, (target, all) =>
      target.searchParams.set('resume', JSON.stringify(Object.fromEntries(all))),
    );
    expect(new URL(url).searchParams.get('resume')).toBe('{"a":{"offset":12,"epoch":"9f2c"}}');
  });
});
