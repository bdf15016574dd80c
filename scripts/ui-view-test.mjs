// Unit tests of the live page's pure functions (assets/ui/view.js), run by node:
//   node --test scripts/ui-view-test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clockNow, fmtDuration, gauge, journalQuery, nextChange, nowAt, parseSse, progress, repeatText, span, ticks, timeline,
} from '../assets/ui/view.js';

const T0 = Date.parse('2026-11-23T12:00:00Z');
const iso = (s) => new Date(T0 + s * 1000).toISOString();

test('parseSse splits complete events and keeps the rest', () => {
  const { events, rest } = parseSse('event: hello\ndata: {"version":0}\n\n: still here\n\nevent: change\ndata: {"v');
  assert.deepEqual(events, [{ event: 'hello', data: '{"version":0}' }]);
  assert.equal(rest, 'event: change\ndata: {"v');
  const next = parseSse(rest + '":1}\n\n');
  assert.deepEqual(next.events, [{ event: 'change', data: '{"v":1}' }]);
  assert.equal(next.rest, '');
  assert.deepEqual(parseSse('event: a\r\ndata: x\r\n\r\n').events, [{ event: 'a', data: 'x' }]);
});

test('a frozen clock stays, a running one moves with real time', () => {
  assert.equal(clockNow({ nowMs: T0, frozen: true }, 1000, 5000), T0);
  assert.equal(clockNow({ nowMs: T0, frozen: false }, 1000, 5000), T0 + 4000);
});

test('spans: scheduled at its due time, playing from its start, waiting after what plays', () => {
  const one = 1000;
  assert.deepEqual(span({ status: 'scheduled', dueAt: iso(30), repeat: 2 }, one, T0), { start: T0 + 30000, end: T0 + 32000, projected: true });
  assert.deepEqual(span({ status: 'played', dueAt: iso(30), startedAt: iso(30), finishedAt: iso(32), repeat: 2 }, one, T0 + 60000),
    { start: T0 + 30000, end: T0 + 32000, projected: false });
  assert.deepEqual(span({ status: 'failed', dueAt: iso(30), finishedAt: iso(90) }, one, T0 + 99000), { start: T0 + 30000, end: T0 + 90000, projected: false });
  assert.equal(span({ status: 'delivered', dueAt: iso(0), repeat: 1 }, one, T0 + 5000, T0 + 7000).start, T0 + 7000);
  assert.equal(span({ status: 'queued', dueAt: iso(0) }, one, T0 + 5000).start, T0 + 5000);
});

test('timeline: blocks in percent of the window, cut at its edges, outside ones left out', () => {
  const stores = [{
    externalId: 's1', company: 'c', online: true,
    nowPlaying: { sendId: 'a', audioId: 'x', status: 'playing', dueAt: iso(0), startedAt: iso(0), repeat: 1, priority: 'high' },
    queue: [{ sendId: 'b', audioId: 'x', status: 'scheduled', dueAt: iso(50), repeat: 1 }, { sendId: 'far', audioId: 'x', status: 'scheduled', dueAt: iso(5000) }],
    history: [{ sendId: 'old', audioId: 'x', status: 'played', dueAt: iso(-500), startedAt: iso(-500), finishedAt: iso(-490) }],
  }];
  const [lane] = timeline(stores, { x: 10000 }, T0 + 5000, T0, T0 + 100000);
  assert.deepEqual(lane.blocks.map((b) => b.sendId), ['a', 'b']);
  const [a, b] = lane.blocks;
  assert.equal(a.left, 0);
  assert.equal(a.width, 10);
  assert.equal(b.left, 50);
  assert.equal(b.width, 10);
  // Moving the clock moves the window, so the same block sits further left.
  const [later] = timeline(stores, { x: 10000 }, T0 + 25000, T0 + 20000, T0 + 120000);
  assert.equal(later.blocks.find((x) => x.sendId === 'b').left, 30);
  assert.equal(nowAt(T0 + 25000, T0, T0 + 100000), 25);
});

test('nextChange: the end of what plays, the next due, an offline deadline', () => {
  const stores = [
    { online: true, nowPlaying: { audioId: 'x', status: 'playing', startedAt: iso(0), repeat: 2 }, queue: [] },
    { online: true, queue: [{ audioId: 'x', status: 'scheduled', dueAt: iso(1) }] },
  ];
  assert.equal(nextChange(stores, { x: 1000 }, T0 + 100), T0 + 1000);
  assert.equal(nextChange([{ online: false, failAfterMs: 60000, queue: [{ status: 'queued', dueAt: iso(30) }] }], {}, T0 + 31000), T0 + 90000);
  assert.equal(nextChange([{ online: true, queue: [] }], {}, T0), null);
});

test('gauges, repeats, progress, durations and the journal query', () => {
  assert.deepEqual(gauge({ used: 95, limit: 100 }), { share: 95, level: 'high' });
  assert.deepEqual(gauge({ used: 0, limit: 0 }), { share: 0, level: 'low' });
  assert.equal(gauge({ used: 200, limit: 100 }).share, 100);
  assert.equal(repeatText({ status: 'playing', repeat: 3, playsCompleted: 1 }), '2 of 3');
  assert.equal(repeatText({ status: 'played', repeat: 3, playsCompleted: 3 }), '3 of 3');
  assert.equal(progress({ status: 'playing', startedAt: iso(0), repeat: 2 }, 1000, T0 + 500), 25);
  assert.equal(fmtDuration(250), '250ms');
  assert.equal(fmtDuration(4200), '4.2s');
  assert.equal(fmtDuration(185000), '3m 05s');
  assert.equal(fmtDuration(3720000), '1h 02m');
  assert.equal(journalQuery({ api: 'musique', method: 'get', path: ' ', status: '' }, 7), 'api=musique&method=GET&after=7&limit=200');
  assert.equal(journalQuery({}, null), 'limit=200');
});

test('ticks: round instants, about as many as asked, placed in the window', () => {
  const marks = ticks(T0 - 30000, T0 + 90000, 6);
  assert.deepEqual(marks.map((m) => m.label), ['11:59:30', '12:00:00', '12:00:30', '12:01:00', '12:01:30']);
  assert.equal(marks[1].left, 25);
  assert.equal(ticks(T0, T0 + 86400000, 6)[0].label, '12:00:00');
  assert.ok(ticks(T0, T0 + 86400000, 6).length <= 7);
});
