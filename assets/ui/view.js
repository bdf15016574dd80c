// The live page's pure functions: no DOM, no fetch, so node runs their tests
// (scripts/ui-view-test.mjs) and the page imports them as they are.

/** Milliseconds since the epoch of an RFC 3339 instant, or null. */
export function ms(instant) {
  if (instant == null) return null;
  const t = Date.parse(instant);
  return Number.isNaN(t) ? null : t;
}

/** `1h 02m`, `3m 05s`, `4.2s`, `250ms`. */
export function fmtDuration(milliseconds) {
  const sign = milliseconds < 0 ? '-' : '';
  let rest = Math.abs(Math.round(milliseconds));
  if (rest < 1000) return `${sign}${rest}ms`;
  if (rest < 10_000) return `${sign}${(rest / 1000).toFixed(1)}s`;
  const s = Math.floor(rest / 1000);
  const [d, h, m, sec] = [Math.floor(s / 86400), Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60, s % 60];
  const two = (n) => String(n).padStart(2, '0');
  if (d > 0) return `${sign}${d}d ${two(h)}h`;
  if (h > 0) return `${sign}${h}h ${two(m)}m`;
  return `${sign}${m}m ${two(sec)}s`;
}

/** `12.3 KB` */
export function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * Reads Server-Sent Events out of `buffer` (text received so far): the complete events and
 * what is left over for the next chunk. Comments (`: …`) are dropped.
 */
export function parseSse(buffer) {
  const events = [];
  const text = buffer.replace(/\r\n?/g, '\n');
  const blocks = text.split('\n\n');
  const rest = blocks.pop();
  for (const block of blocks) {
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const at = line.indexOf(':');
      const field = at < 0 ? line : line.slice(0, at);
      const value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0 || event !== 'message') events.push({ event, data: data.join('\n') });
  }
  return { events, rest };
}

/**
 * The tenant's clock now, as the page shows it between answers: a frozen clock stays; a
 * running one moves with the real time elapsed since it was read.
 */
export function clockNow(clock, readAtRealMs, realNowMs) {
  if (!clock) return realNowMs;
  return clock.frozen ? clock.nowMs : clock.nowMs + (realNowMs - readAtRealMs);
}

/**
 * Where a delivery sits in time: `[start, end)` in ms on the tenant's clock, and whether the
 * end is known or projected. `durationMs` is one play of its audio (null when unknown).
 */
export function span(delivery, durationMs, nowMs, notBefore) {
  const one = durationMs ?? 1000;
  const playing = one * Math.max(1, delivery.repeat ?? 1);
  const due = ms(delivery.dueAt) ?? nowMs;
  const started = ms(delivery.startedAt);
  const delivered = ms(delivery.deliveredAt);
  const finished = ms(delivery.finishedAt);
  switch (delivery.status) {
    case 'played':
    case 'failed': {
      const start = started ?? delivered ?? due;
      return { start, end: Math.max(finished ?? start, start), projected: false };
    }
    case 'playing': {
      const start = started ?? delivered ?? due;
      return { start, end: Math.max(start + playing, nowMs), projected: true };
    }
    case 'scheduled':
      return { start: due, end: due + playing, projected: true };
    default: {
      // queued (offline) or delivered (waiting its turn): from now, or after what plays before.
      const start = Math.max(due, nowMs, notBefore ?? -Infinity);
      return { start, end: start + playing, projected: true };
    }
  }
}

/**
 * One lane per store: its deliveries as blocks, positioned in percent of the window
 * `[fromMs, toMs)`. Blocks wholly outside the window are left out; those that cross an edge
 * are cut there. `durations` maps an audio id to one play in ms.
 */
export function timeline(stores, durations, nowMs, fromMs, toMs) {
  const width = Math.max(1, toMs - fromMs);
  const pct = (t) => ((Math.min(Math.max(t, fromMs), toMs) - fromMs) / width) * 100;
  return stores.map((store) => {
    const all = [...(store.history ?? []), ...(store.nowPlaying ? [store.nowPlaying] : []), ...(store.queue ?? [])];
    let after = null;
    if (store.nowPlaying) {
      after = span(store.nowPlaying, durations[store.nowPlaying.audioId], nowMs).end;
    }
    const blocks = [];
    for (const d of all) {
      const waits = d.status === 'delivered' || d.status === 'queued';
      const s = span(d, durations[d.audioId], nowMs, waits ? after : null);
      if (waits && store.online !== false) after = s.end;
      if (s.end < fromMs || s.start >= toMs) continue;
      const left = pct(s.start);
      blocks.push({
        sendId: d.sendId,
        audioId: d.audioId,
        status: d.status,
        priority: d.priority,
        start: s.start,
        end: s.end,
        projected: s.projected,
        left,
        width: Math.max(pct(s.end) - left, 0.4),
      });
    }
    return { externalId: store.externalId, company: store.company, online: store.online, blocks };
  });
}

/** Where "now" is in the window, in percent. */
export function nowAt(nowMs, fromMs, toMs) {
  return ((nowMs - fromMs) / Math.max(1, toMs - fromMs)) * 100;
}

/**
 * The next instant (tenant clock) at which what the stores show changes by itself on a
 * running clock: a playing delivery ends, a scheduled one comes due, a waiting one starts.
 * The page reads again then, instead of polling. null when nothing is pending.
 */
export function nextChange(stores, durations, nowMs) {
  let next = null;
  const consider = (t) => {
    if (t != null && t > nowMs && (next == null || t < next)) next = t;
  };
  for (const store of stores) {
    if (store.nowPlaying) consider(span(store.nowPlaying, durations[store.nowPlaying.audioId], nowMs).end);
    for (const d of store.queue ?? []) {
      if (d.status === 'scheduled') consider(ms(d.dueAt));
      if (d.status === 'queued' && store.online === false) consider(ms(d.dueAt) + (store.failAfterMs ?? 0));
    }
  }
  return next;
}

/** A gauge of a window: the share used in percent (0-100) and a level for its colour. */
export function gauge(window) {
  const share = window.limit > 0 ? Math.min(100, (window.used / window.limit) * 100) : 0;
  const level = share >= 90 ? 'high' : share >= 60 ? 'mid' : 'low';
  return { share, level };
}

/** The journal API's query for the page's filter fields: only those given. */
export function journalQuery(filter, afterId) {
  const params = new URLSearchParams();
  for (const key of ['api', 'method', 'path', 'status']) {
    const value = (filter[key] ?? '').trim();
    if (value !== '') params.set(key, key === 'method' ? value.toUpperCase() : value);
  }
  if (afterId != null) params.set('after', String(afterId));
  params.set('limit', '200');
  return params.toString();
}

/** The player's "repeat n of m": plays completed so far, counting the one in progress. */
export function repeatText(delivery) {
  const total = Math.max(1, delivery.repeat ?? 1);
  const done = delivery.playsCompleted ?? 0;
  const current = delivery.status === 'playing' ? Math.min(done + 1, total) : done;
  return `${current} of ${total}`;
}

/** How far the delivery playing now is through all its repeats, 0-100. */
export function progress(delivery, durationMs, nowMs) {
  const s = span(delivery, durationMs, nowMs);
  if (s.end <= s.start) return 100;
  return Math.min(100, Math.max(0, ((nowMs - s.start) / (s.end - s.start)) * 100));
}

/**
 * Marks for the timeline's axis: round instants (a step of 1, 5, 10, 15, 30 s, 1, 5, 10,
 * 15, 30 min, 1, 3, 6, 12 h or 1 day) with about `count` of them in the window, each with its
 * place in percent and an `HH:MM:SS` label (UTC, as the tenant's clock is shown).
 */
export function ticks(fromMs, toMs, count = 6) {
  const steps = [1, 5, 10, 15, 30, 60, 300, 600, 900, 1800, 3600, 10800, 21600, 43200, 86400].map((s) => s * 1000);
  const width = Math.max(1, toMs - fromMs);
  const step = steps.find((s) => width / s <= count) ?? steps[steps.length - 1];
  const out = [];
  for (let at = Math.ceil(fromMs / step) * step; at <= toMs; at += step) {
    const label = new Date(at).toISOString().slice(11, 19);
    out.push({ at, left: ((at - fromMs) / width) * 100, label });
  }
  return out;
}
