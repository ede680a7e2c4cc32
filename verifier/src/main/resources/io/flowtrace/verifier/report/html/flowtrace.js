/*
 * flowtrace pages: the replay report (data inline), the JUnit failure page (one instance) and the
 * sidecar's live page (data fetched from verdicts.json). One script for all three.
 *
 * Every value that comes from telemetry (keys, payloads, attribute values, span names, topics) is
 * attacker-controlled text: it is only ever put into the page with textContent / createTextNode /
 * setAttribute of a fixed attribute name — never innerHTML, never as markup — and its control
 * characters that hide or reorder text (U+202E) are shown as such.
 */
(function () {
  'use strict';
  var doc = document;
  var SVGNS = 'http://www.w3.org/2000/svg';
  var MODE = doc.body.getAttribute('data-mode') || 'report';

  // ---- small helpers -------------------------------------------------------------------------

  /** Control characters that would hide or reorder text: U+202E turns a payload's 'eurt' into 'true'. */
  var HIDDEN = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

  /** Text as shown: such characters made visible, as <U+202E>. */
  function shown(s) {
    return String(s).replace(HIDDEN, function (c) {
      return '<U+' + ('000' + c.charCodeAt(0).toString(16).toUpperCase()).slice(-4) + '>';
    });
  }

  function el(tag, cls, text) {
    var e = doc.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = shown(text);
    return e;
  }

  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      parent.appendChild(typeof c === 'string' ? doc.createTextNode(shown(c)) : c);
    }
    return parent;
  }

  function svg(tag, attrs, text) {
    var e = doc.createElementNS(SVGNS, tag);
    if (attrs) for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined && text !== null) e.appendChild(doc.createTextNode(shown(text)));
    return e;
  }

  function readJson(id) {
    var n = doc.getElementById(id);
    return n ? JSON.parse(n.textContent) : null;
  }

  function trimZeros(s) {
    return s.indexOf('.') < 0 ? s : s.replace(/0+$/, '').replace(/\.$/, '');
  }

  /** A duration in milliseconds as the console and the docs write it (Texts.duration): 12 ms, 3.2 s, 14.5 min, 4 h. */
  function ms(v) {
    if (v === undefined || v === null || isNaN(v)) return '';
    var a = Math.abs(v);
    if (a >= 7200000) return trimZeros((v / 3600000).toFixed(1)) + ' h';
    if (a >= 600000) return trimZeros((v / 60000).toFixed(1)) + ' min';
    if (a >= 1000) return trimZeros((v / 1000).toFixed(3)) + ' s';
    if (a >= 10) return Math.round(v) + ' ms';
    return trimZeros(v.toFixed(1)) + ' ms';
  }

  /**
   * The broker dwell of a record before one of its consumers: as read, or — where a clock
   * correction moved the consumer against the record's time — what the clocks let be said of it.
   */
  function dwellText(h, c) {
    var dwell = c.t - (h.rt !== undefined ? h.rt : h.t);
    if (c.est) {
      return Math.abs(dwell) < 1 ? 'dwell not measured (the hosts\u2019 clocks differ)'
          : 'dwell \u2248' + ms(dwell) + ' (clocks corrected)';
    }
    return 'dwell ' + ms(dwell) + (dwell < 0 ? ' (the hosts\u2019 clocks differ)' : '');
  }

  /** An offset from the instance's start: +12 ms, or −0.1 ms for one a clock correction put before it. */
  function at(v) {
    return (v <= -0.05 ? '\u2212' + ms(-v) : '+' + ms(Math.max(v, 0)));
  }

  function iso(epochMs) {
    try { return new Date(epochMs).toISOString(); } catch (e) { return String(epochMs); }
  }

  function keysText(keys) {
    var out = [];
    for (var k in keys) if (Object.prototype.hasOwnProperty.call(keys, k)) out.push(k + '=' + keys[k]);
    return out.join(' ');
  }

  function cut(s, n) {
    s = String(s);
    return s.length > n ? s.slice(0, n - 1) + '\u2026' : s;
  }

  /**
   * A name in one line of at most n characters, else two, broken after a '-', '.', '_' or '/' where
   * one fits; a word a little longer than n ("notification-") stays whole on its line rather than be
   * broken inside (the drawing narrows such a line to fit, {@link #SQUEEZE}).
   */
  function twoLines(s, n) {
    s = String(s);
    if (s.length <= n) return [s];
    var at = -1, i;
    for (i = Math.min(n, s.length - 1) - 1; i > 0 && at < 0; i--) {
      if ('-._/ '.indexOf(s.charAt(i)) >= 0) at = i + 1;
    }
    for (i = n; at < 0 && i < Math.min(s.length - 1, Math.floor(n * SQUEEZE)); i++) {
      if ('-._/ '.indexOf(s.charAt(i)) >= 0) at = i + 1;
    }
    if (at < 0) at = n;
    var rest = s.slice(at);
    return [s.slice(0, at), rest.length <= Math.floor(n * SQUEEZE) ? rest : cut(rest, n)];
  }

  /** How much longer than its room a line of a name may be, drawn narrower. */
  var SQUEEZE = 1.35;

  /**
   * Names too long for {@code room} characters without what they share with the others: the common
   * prefix and suffix (cut at a '.', '-', '_' or '/') become '…', so that
   * {@code acme.claims.submitted.v1.prod} and {@code acme.claims.assessed.v1.prod} read
   * {@code …submitted…} and {@code …assessed…} instead of two equal beginnings. Fitting names stay.
   */
  function distinctParts(names, room) {
    if (names.length < 2 || names.every(function (n) { return n.length <= room; })) return names.slice();
    var sep = '.-_/';
    var prefix = names.reduce(function (p, n) { var i = 0; while (i < p.length && i < n.length && p[i] === n[i]) i++; return p.slice(0, i); });
    var cutAt = -1;
    for (var i = prefix.length - 1; i >= 0 && cutAt < 0; i--) if (sep.indexOf(prefix[i]) >= 0) cutAt = i + 1;
    prefix = cutAt > 0 ? prefix.slice(0, cutAt) : '';
    var rev = function (t) { return t.split('').reverse().join(''); };
    var suffix = rev(names.map(rev).reduce(function (p, n) { var i = 0; while (i < p.length && i < n.length && p[i] === n[i]) i++; return p.slice(0, i); }));
    cutAt = -1;
    for (var j = 0; j < suffix.length && cutAt < 0; j++) if (sep.indexOf(suffix[j]) >= 0) cutAt = j;
    suffix = cutAt >= 0 ? suffix.slice(cutAt) : '';
    if (prefix.length + suffix.length < 6) return names.slice();
    return names.map(function (n) {
      var middle = n.slice(prefix.length, n.length - suffix.length);
      if (!middle || n.length <= room) return n;
      return (prefix ? '\u2026' : '') + middle + (suffix ? '\u2026' : '');
    });
  }

  function hostOf(url) {
    if (!url) return null;
    var m = /^[a-z][a-z0-9+.-]*:\/\/([^\/?#]+)/i.exec(String(url));
    return m ? m[1] : null;
  }

  function normPath(p) {
    return String(p).replace(/\[\d+\]/g, '[]');
  }

  // ---- data sources --------------------------------------------------------------------------

  var meta = null;       // {title, flows, summary}
  var rows = [];         // table lines

  var chunkCache = {}, chunkOrder = [];

  /** An instance's detail: its chunk (gzip, base64, a block of its own) inflated when first needed. */
  function staticDetail(row) {
    var c = row.d[0];
    if (!chunkCache[c]) {
      chunkCache[c] = loadChunk(c);
      chunkOrder.push(c);
      if (chunkOrder.length > 32) delete chunkCache[chunkOrder.shift()];
    }
    return chunkCache[c].then(function (list) { return list[row.d[1]]; });
  }

  function loadChunk(c) {
    var block = doc.getElementById('ft-c' + c);
    if (!block) return Promise.reject(new Error('the page has no data block ft-c' + c));
    var bin = atob(block.textContent);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var inflated = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(inflated).text().then(JSON.parse);
  }

  function liveDetail(row) {
    if (row.detail) return Promise.resolve(row.detail);
    return fetch('verdict.json?id=' + encodeURIComponent(row.id), {cache: 'no-store'}).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    });
  }

  var getDetail = MODE === 'live' ? liveDetail : staticDetail;

  // ---- page skeleton ---------------------------------------------------------------------------

  var app = doc.getElementById('app');
  var ui = {};

  function build() {
    app.textContent = '';
    var header = el('header', 'top');
    ui.title = el('h1', null, meta.title || 'flowtrace');
    ui.sub = el('div', 'sub');
    add(header, ui.title, ui.sub);
    if (MODE === 'live') {
      ui.liveStatus = el('div', 'live-status', 'connecting\u2026');
      header.appendChild(ui.liveStatus);
    }
    app.appendChild(header);
    if (MODE !== 'single') {
      ui.summary = el('section', 'summary');
      app.appendChild(ui.summary);
      var tsec = el('section', 'instances');
      add(tsec, el('h2', null, MODE === 'live' ? 'Recent verdicts (failed first)' : 'Instances'));
      tsec.appendChild(buildFilters());
      var table = el('div', 'table');
      var head = el('div', 'row head');
      ['Status', 'Flow', 'Keys', 'Violations', 'Start', 'Duration'].forEach(function (h, i) {
        add(head, el('span', i === 5 ? 'num' : null, h));
      });
      ui.rows = el('div', 'rows');
      ui.rows.setAttribute('role', 'list');
      add(table, head, ui.rows);
      tsec.appendChild(table);
      app.appendChild(tsec);
      ui.rows.addEventListener('click', function (ev) {
        var t = ev.target;
        while (t && t !== ui.rows && !t.rowRef) t = t.parentNode;
        if (t && t.rowRef) openInstance(t.rowRef);
      });
    }
    ui.detail = el('section', 'detail');
    ui.detail.id = 'detail';
    app.appendChild(ui.detail);
  }

  function option(select, value, label) {
    var o = el('option', null, label);
    o.value = value;
    select.appendChild(o);
  }

  function buildFilters() {
    var f = el('div', 'filters');
    ui.fStatus = el('select');
    ui.fStatus.id = 'f-status';
    option(ui.fStatus, '', 'any status');
    ['FAILED', 'PASSED', 'INCOMPLETE'].forEach(function (s) { option(ui.fStatus, s, s); });
    ui.fKind = el('select');
    ui.fKind.id = 'f-kind';
    ui.fStage = el('select');
    ui.fStage.id = 'f-stage';
    ui.fVer = el('select');
    ui.fVer.id = 'f-verification';
    option(ui.fVer, '', 'fully or partly verified');
    option(ui.fVer, 'full', 'fully verified');
    option(ui.fVer, 'partial', 'partly verified');
    ui.fText = el('input');
    ui.fText.id = 'f-text';
    ui.fText.type = 'search';
    ui.fText.placeholder = 'key contains\u2026';
    ui.sort = el('select');
    ui.sort.id = 'f-sort';
    if (MODE !== 'live') option(ui.sort, 'failed', 'sort: failed first, then incomplete');
    option(ui.sort, 'time', 'sort: start time \u2191');
    option(ui.sort, '-time', 'sort: start time \u2193');
    option(ui.sort, '-dur', 'sort: duration \u2193');
    option(ui.sort, 'dur', 'sort: duration \u2191');
    if (MODE === 'live') option(ui.sort, 'live', 'sort: failed first, newest first');
    if (MODE === 'live') ui.sort.value = 'live';
    ui.count = el('span', 'count');
    ui.count.id = 'f-count';
    add(f, ui.fStatus, ui.fKind, ui.fStage, ui.fVer, ui.fText, ui.sort, ui.count);
    [ui.fStatus, ui.fKind, ui.fStage, ui.fVer, ui.sort].forEach(function (s) { s.addEventListener('change', applyFilters); });
    var timer = null;
    ui.fText.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(applyFilters, 120);
    });
    return f;
  }

  function fillChoices(select, first, values) {
    var current = select.value;
    select.textContent = '';
    option(select, '', first);
    values.forEach(function (v) { option(select, v, v); });
    select.value = values.indexOf(current) >= 0 ? current : '';
  }

  // ---- summary -----------------------------------------------------------------------------------

  function card(n, label, cls) {
    var c = el('div', 'card' + (cls ? ' ' + cls : ''));
    add(c, el('div', 'n', n), el('div', 'l', label));
    return c;
  }

  /** The stage ids that more than one flow declares (HtmlData.sharedStageIds). */
  function sharedStages() {
    var seen = {}, shared = {};
    Object.keys(meta.flows || {}).forEach(function (f) {
      var own = {};
      (meta.flows[f].stages || []).forEach(function (s) {
        if (own[s.id]) return;
        own[s.id] = true;
        if (seen[s.id]) shared[s.id] = true;
        seen[s.id] = true;
      });
    });
    return shared;
  }

  function barChart(title, counts, filter) {
    var box = el('div', 'chart');
    box.appendChild(el('h2', null, title));
    var names = Object.keys(counts || {}).sort(function (a, b) { return counts[b] - counts[a] || (a < b ? -1 : 1); });
    if (!names.length) {
      box.appendChild(el('div', 'empty', 'none'));
      return box;
    }
    var max = counts[names[0]];
    names.forEach(function (k) {
      var b = el('div', 'bar');
      b.title = 'show only instances with ' + k;
      var track = el('div', 'track');
      var fill = el('div', 'fill');
      fill.style.width = Math.max(2, Math.round(100 * counts[k] / max)) + '%';
      track.appendChild(fill);
      add(b, el('span', null, k), track, el('span', 'num', counts[k]));
      b.addEventListener('click', function () {
        filter.value = k;
        applyFilters();
      });
      box.appendChild(b);
    });
    return box;
  }

  function renderSummary(s) {
    var sub = [];
    if (s.from) sub.push('recording ' + s.from + ' \u2192 ' + s.to);
    if (MODE === 'live' && s.since) sub.push('since ' + s.since);
    ui.sub.textContent = sub.join(' \u00b7 ');
    var box = ui.summary;
    box.textContent = '';
    var cards = el('div', 'cards');
    add(cards, card(s.instances, 'instances'), card(s.failed, 'failed', 'failed'), card(s.passed, 'passed', 'passed'),
      card(s.incomplete, 'incomplete', 'incomplete'), card(s.full, 'fully verified'), card(s.partial, 'partly verified'));
    if (s.inputProblems !== undefined) add(cards, card(s.inputProblems, 'input problems skipped'));
    if (s.byFlow) {
      Object.keys(s.byFlow).sort().forEach(function (f) {
        var c = s.byFlow[f];
        add(cards, card(c.failed + ' / ' + c.instances, f + ': failed / verdicts'));
      });
    }
    box.appendChild(cards);
    var charts = el('div', 'charts');
    add(charts, barChart('Violations by kind', s.byKind, ui.fKind), barChart('Violations by stage', s.byStage, ui.fStage));
    box.appendChild(charts);
  }

  // ---- the table ---------------------------------------------------------------------------------

  /**
   * Builds the table: every instance a real line of text (so the browser's find sees every key,
   * status and kind), drawn only when on screen (content-visibility). The first lines are built at
   * once and the rest in slices, so the page is usable before the last of 20,000 lines exists.
   */
  var building = null;

  function renderRows(onFirst) {
    var kinds = {}, stages = {};
    var shared = sharedStages();
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      r.kinds.forEach(function (k) { kinds[k] = 1; });
      // as the summary counts them: a stage id two flows declare is named with its flow
      r.stages = r.stages.map(function (k) { return shared[k] && k.indexOf(' \u00b7 ') < 0 ? r.flow + ' \u00b7 ' + k : k; });
      r.stages.forEach(function (k) { stages[k] = 1; });
      r.keyText = keysText(r.keys);
      r.search = (r.keyText + ' ' + r.flow).toLowerCase();
      r.el = null;
    }
    fillChoices(ui.fKind, 'any violation kind', Object.keys(kinds).sort());
    fillChoices(ui.fStage, 'any stage', Object.keys(stages).sort());
    lastSort = ui.sort.value;
    rows.sort(SORTS[lastSort] || SORTS.time);
    ui.rows.textContent = '';
    if (building) clearTimeout(building.timer);
    building = {next: 0, timer: null};
    buildSlice(400);
    applyFilters();
    if (onFirst) onFirst();
    scheduleSlice();
  }

  function scheduleSlice() {
    if (!building || building.next >= rows.length) {
      building = null;
      doc.body.setAttribute('data-rows-ms', String(Math.round(performance.now())));
      return;
    }
    building.timer = setTimeout(function () {
      buildSlice(3000);
      scheduleSlice();
    }, 0);
  }

  function buildSlice(n) {
    var frag = doc.createDocumentFragment();
    var end = Math.min(rows.length, building.next + n);
    for (var i = building.next; i < end; i++) {
      var r = rows[i];
      var line = el('div', 'row');
      line.rowRef = r;
      line.setAttribute('data-status', r.status);
      var st = el('span', 'status ' + r.status, r.status);
      if (r.v === 'partial') add(st, ' ', el('span', 'partial', 'partly'));
      add(line, st, el('span', null, r.flow), el('span', 'keys', r.keyText), el('span', 'kinds', r.kinds.join(' ')),
        el('span', null, iso(r.start)), el('span', 'num', ms(r.dur)));
      line.hidden = !matches(r);
      r.el = line;
      frag.appendChild(line);
    }
    building.next = end;
    ui.rows.appendChild(frag);
  }

  function finishBuilding() {
    if (!building) return;
    clearTimeout(building.timer);
    buildSlice(rows.length);
    scheduleSlice();
  }

  var RANK = {FAILED: 0, INCOMPLETE: 1, PASSED: 2};
  var SORTS = {
    'time': function (a, b) { return a.start - b.start; },
    '-time': function (a, b) { return b.start - a.start; },
    'dur': function (a, b) { return a.dur - b.dur; },
    '-dur': function (a, b) { return b.dur - a.dur; },
    'failed': function (a, b) { return RANK[a.status] - RANK[b.status] || a.start - b.start; },
    'live': function (a, b) { return (a.status === 'FAILED' ? 0 : 1) - (b.status === 'FAILED' ? 0 : 1) || b.seq - a.seq; }
  };
  var lastSort = null;

  var filter = {};

  function matches(r) {
    return (!filter.status || r.status === filter.status) && (!filter.kind || r.kinds.indexOf(filter.kind) >= 0)
      && (!filter.stage || r.stages.indexOf(filter.stage) >= 0) && (!filter.ver || r.v === filter.ver)
      && (!filter.text || r.search.indexOf(filter.text) >= 0);
  }

  function applyFilters() {
    filter = {status: ui.fStatus.value, kind: ui.fKind.value, stage: ui.fStage.value, ver: ui.fVer.value,
      text: ui.fText.value.trim().toLowerCase()};
    var sort = ui.sort.value;
    if (sort !== lastSort) {
      finishBuilding();
      rows.sort(SORTS[sort] || SORTS.time);
      var frag = doc.createDocumentFragment();
      rows.forEach(function (r) { frag.appendChild(r.el); });
      ui.rows.appendChild(frag);
      lastSort = sort;
    }
    var shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var ok = matches(r);
      if (r.el && r.el.hidden === ok) r.el.hidden = !ok;
      if (ok) shown++;
    }
    ui.count.textContent = 'showing ' + shown + ' of ' + rows.length;
  }

  // ---- one instance ------------------------------------------------------------------------------

  var openRow = null;

  function openInstance(row) {
    if (openRow && openRow.el) openRow.el.classList.remove('open');
    openRow = row;
    if (row.el) row.el.classList.add('open');
    var t0 = performance.now();
    getDetail(row).then(function (d) {
      if (openRow !== row) return;
      var t1 = performance.now();
      renderDetail(d);
      if (MODE !== 'single') ui.detail.scrollIntoView({block: 'start'});
      // how long the data and the drawing took, for whoever measures the page
      ui.detail.setAttribute('data-open-ms', Math.round(t1 - t0) + ' ' + Math.round(performance.now() - t1));
    }, function (e) {
      ui.detail.textContent = '';
      ui.detail.appendChild(el('div', 'empty', 'could not load this instance: ' + e.message));
    });
  }

  function violationItem(x) {
    var li = el('li');
    li.setAttribute('data-kind', x.kind);
    li.setAttribute('data-stage', x.stage);
    add(li, el('span', 'k', x.kind), ' at ' + x.stage + (x.field ? ', field ' + x.field : '') + (x.event ? ' (' + x.event + ')' : ''),
      el('br'), x.message);
    var ea = [];
    if (x.expected !== undefined) ea.push('expected: ' + x.expected);
    if (x.actual !== undefined) ea.push('actual:   ' + x.actual);
    var where = whereOf(x);
    if (where) ea.push('at ' + where);
    if (ea.length) add(li, el('br'), el('span', 'ea', ea.join('\n')));
    return li;
  }

  function whereOf(x) {
    var w = [];
    if (x.topic) w.push(x.topic + '[' + x.partition + ']@' + x.offset);
    if (x.traceId) w.push('trace ' + x.traceId + (x.spanId ? ' span ' + x.spanId : ''));
    return w.join(', ');
  }

  function renderDetail(d) {
    var box = ui.detail;
    box.textContent = '';
    box.setAttribute('data-instance', keysText(d.keys));
    var h = el('h2');
    add(h, el('span', 'status ' + d.status, d.status), ' ' + d.flow + ' ', el('span', 'keys', keysText(d.keys)));
    box.appendChild(h);
    var SHOWN_TRACES = 6;
    var info = 'started ' + d.start + ' \u00b7 lasted ' + ms(d.dur) + ' \u00b7 ' +
      (d.v === 'full' ? 'fully verified' : 'partly verified') + (d.traceIds.length ? ' \u00b7 traces '
        + d.traceIds.slice(0, SHOWN_TRACES).join(', ') : '');
    var infoLine = el('div', 'notes', info);
    if (d.traceIds.length > SHOWN_TRACES) {
      // a callback per status or a batch of retries: every trace is listed, folded past the first few
      var more = el('details', 'more');
      add(more, el('summary', null, 'and ' + (d.traceIds.length - SHOWN_TRACES) + ' more traces'),
        el('span', null, d.traceIds.slice(SHOWN_TRACES).join(', ')));
      infoLine.appendChild(more);
    }
    box.appendChild(infoLine);
    if (d.reason) box.appendChild(el('div', 'notes', d.reason));
    d.notes.forEach(function (n) { box.appendChild(el('div', 'notes', 'note: ' + n)); });
    if (d.violations.length) {
      var ul = el('ul', 'violations');
      d.violations.forEach(function (x) { ul.appendChild(violationItem(x)); });
      box.appendChild(ul);
    }
    if (d.unverified.length) {
      var uv = el('ul', 'violations unverified');
      d.unverified.forEach(function (u) {
        var li = el('li');
        add(li, el('span', 'k', 'not verified'), ' ' + u.check + ' ' + u.subject + ' at ' + u.stage + ': ' + u.reason);
        uv.appendChild(li);
      });
      box.appendChild(uv);
    }
    var legend = el('div', 'legend');
    [['', 'hop'], ['consume', 'topic \u2192 consumer (broker dwell)'], ['bad', 'violated hop'], ['missing', 'missing (never happened)'],
      ['grey', 'not verified / not observed']].forEach(function (p) {
      var s = el('span');
      add(s, el('span', 'sw ' + p[0]), p[1]);
      legend.appendChild(s);
    });
    box.appendChild(legend);
    box.appendChild(el('div', 'hint', 'Click a hop to see its payload, its trace/span ids or topic/partition/offset, and its timing.'));
    var diagram = el('div', 'diagram');
    box.appendChild(diagram);
    var panel = doc.getElementById('hop-panel');
    if (!panel) {
      panel = el('aside', 'hoppanel');
      panel.id = 'hop-panel';
      doc.body.appendChild(panel);
    }
    panel.hidden = true;
    var spec = meta.flows ? meta.flows[d.flow] : null;
    var seq = sequence(d, spec);
    var folded = foldTopics(seq);
    // the badges, where the diagram has them
    [['nth', '\u00d72', 'its 2nd occurrence (an item of a fan-out, an attempt made again)', function (it) { return it.nth; }],
      ['', 'again \u00d72', 'a repeat the idempotency check counted', function (it) { return it.dup; }]].forEach(function (k) {
      if (!seq.items.some(k[3])) return;
      var s = el('span');
      add(s, el('span', 'key ' + k[0], k[1]), k[2]);
      legend.appendChild(s);
    });
    var toggle = el('label', 'fold');
    var box2 = el('input');
    box2.type = 'checkbox';
    add(toggle, box2, ' Kafka topics as lifelines');
    legend.appendChild(toggle);
    function draw() {
      var shown = box2.checked ? seq : folded;
      // wider columns where there is room (long names stay readable), narrower ones (down to 88 px)
      // before a sideways scroll; violation text widens the drawing itself
      var bad = shown.loose.length > 0 || shown.items.some(function (it) { return it.violations.length > 0; });
      var room = diagram.clientWidth - GUTTER - (bad ? 300 : 40);
      shown.col = room > 0 ? Math.max(88, Math.min(COL_MAX, Math.floor(room / Math.max(1, shown.lanes.length)))) : COL;
      shown.view = diagram.clientWidth;
      diagram.textContent = '';
      diagram.appendChild(drawSequence(shown, function (item) { showHop(panel, d, item); }));
    }
    // topics as lifelines unless that drawing is wider than the box (the reader's choice sticks)
    box2.checked = topicLanes !== null ? topicLanes
        : folded.lanes.length === seq.lanes.length || GUTTER + seq.lanes.length * 88 + 300 <= diagram.clientWidth;
    box2.addEventListener('change', function () { topicLanes = box2.checked; draw(); });
    draw();
  }

  /** Whether the reader chose to draw topics as lifelines ({@code null}: not chosen). */
  var topicLanes = null;

  // ---- the sequence model -----------------------------------------------------------------------

  function specEvent(spec, id) {
    if (!spec) return null;
    for (var i = 0; i < spec.stages.length; i++) {
      var evs = spec.stages[i].events;
      for (var j = 0; j < evs.length; j++) if (evs[j].id === id) return evs[j];
    }
    return null;
  }

  function stageRank(spec, id) {
    if (!spec) return 0;
    for (var i = 0; i < spec.stages.length; i++) if (spec.stages[i].id === id) return i;
    return spec.stages.length;
  }

  /**
   * Turns an instance into lifelines and arrows: one arrow per hop (span call or return, record
   * produced, record consumed), dashed arrows for missing stages and unobserved events, each
   * violation on the hop it names.
   */
  function sequence(d, spec) {
    var items = [];
    var hops = d.hops;
    var seen = {}, seenRecord = {};
    // topic names in arrow labels: what tells them apart, when they share a long prefix or suffix
    var topicNames = [];
    hops.forEach(function (h) { if (h.topic && topicNames.indexOf(h.topic) < 0) topicNames.push(h.topic); });
    var shortTopics = distinctParts(topicNames, 24);
    var topicLabel = function (t) { var i = topicNames.indexOf(t); return i < 0 ? t : shortTopics[i]; };
    var unsampledReason = {};
    d.unverified.forEach(function (u) { if (!unsampledReason[u.subject]) unsampledReason[u.subject] = u.check + ': ' + u.reason; });
    // A call between two services of the flow: a client span whose child server span is a hop too.
    // The other side of such a call is that service, not an external party.
    var spanService = {}, childService = {};
    hops.forEach(function (h) {
      if (h.spanId && h.service) spanService[h.spanId] = h.service;
      if (h.parent && h.kind === 'SERVER' && h.service) childService[h.parent] = h.service;
    });
    // The services of the flow (of this instance, and those that produce its topics elsewhere): a
    // call to a host of one's name (a cluster's service name) goes to that service.
    var known = {};
    hops.forEach(function (h) {
      if (h.service) known[h.service] = true;
      (h.consumers || []).forEach(function (c) { if (c.service) known[c.service] = true; });
    });
    var producers = meta && meta.producers ? meta.producers : {};
    Object.keys(producers).forEach(function (t) { known[producers[t]] = true; });
    var serviceAt = function (url) {
      var host = hostOf(url);
      if (!host) return null;
      host = host.replace(/^.*@/, '').replace(/:\d+$/, '').toLowerCase();
      var label = host.split('.')[0];
      var found = null;
      Object.keys(known).forEach(function (svc) {
        var name = svc.toLowerCase();
        if (name === host || name === label) found = svc;
      });
      return found;
    };
    var peerOf = function (h) {
      if (h.kind === 'CLIENT' && h.spanId && childService[h.spanId] && childService[h.spanId] !== h.service) {
        return childService[h.spanId];
      }
      var named = h.kind === 'CLIENT' ? serviceAt(h.url) : null;
      if (named && named !== h.service) {
        return named;
      }
      if (h.kind === 'SERVER' && h.parent && spanService[h.parent] && spanService[h.parent] !== h.service) {
        return spanService[h.parent];
      }
      return null;
    };
    // An event that happens again is a duplicate only where the idempotency check says so (a status
    // callback sent once per status repeats by design); else it is just counted.
    var duplicated = function (event) {
      var name = event.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      var word = new RegExp('(^|[^\\w.-])' + name + '([^\\w.-]|$)');
      // a trigger that fanned out ("happened 3 times, each saying something else") is items, not repeats
      var items = new RegExp('(^|[^\\w.-])' + name + ' happened (at least )?\\d+ times, each saying something else');
      return d.violations.some(function (v) {
        var m = (v.message || '').replace(items, ' ');
        return v.kind === 'NON_IDEMPOTENT' && word.test(m);
      });
    };

    hops.forEach(function (h, i) {
      var ev = specEvent(spec, h.event) || {};
      var occurrence = (seen[h.event] = (seen[h.event] || 0) + 1);
      var recKey = h.topic ? h.topic + '|' + h.partition + '|' + h.offset : null;
      var again = recKey && seenRecord[recKey];
      if (recKey) seenRecord[recKey] = true;
      var base = {hop: i, stage: h.stage, event: h.event, violations: [], t: h.t, rank: stageRank(spec, h.stage)};
      if (again) base.dup = 'same record again';
      else if (occurrence > 1 && duplicated(h.event)) base.dup = 'again \u00d7' + occurrence;
      else if (occurrence > 1) base.nth = '\u00d7' + occurrence;
      if (unsampledReason[h.event]) {
        base.unverified = unsampledReason[h.event];
      } else if (h.unsampled) {
        base.unsampled = h.spansLost ? 'lost' : true; // its payload was checked; its trace's spans are not here
      }
      if (h.topic) {
        var producer = h.service || producerOf(h.topic) || '(producer not seen)';
        items.push(assign(base, {
          kind: 'produce', from: 'svc:' + producer, to: 'topic:' + h.topic,
          label: h.event,
          sub: topicLabel(h.topic) + '[' + h.partition + ']@' + h.offset + (h.service ? (h.dur ? ' \u00b7 send ' + ms(h.dur) : '') : h.unsampled ? '' : ' \u00b7 producer span not seen'),
          topicLabel: topicLabel(h.topic), topic: h.topic,
          main: true
        }));
        (h.consumers || []).forEach(function (c, ci) {
          // a later consumption: another consumer, or the same one again (a redelivery)
          var again = h.consumers.slice(0, ci).some(function (p) { return p.service === c.service; });
          items.push({
            hop: i, stage: h.stage, event: h.event, violations: [], t: c.t, rank: base.rank, kind: 'consume',
            from: 'topic:' + h.topic, to: 'svc:' + (c.service || '?'),
            label: 'consume', sub: dwellText(h, c) + (ci === 0 ? '' : again ? ' (read again)' : ' (consumer ' + (ci + 1) + ')'),
            consumer: c, again: again
          });
        });
      } else {
        var svcName = 'svc:' + (h.service || ev.service || '?');
        var kind = h.kind || ev.kind;
        var response = ev.attribute && /response/.test(ev.attribute);
        var other;
        var peer = peerOf(h);
        if (peer) {
          other = 'svc:' + peer; // a call between two services of the flow: the server span is the client span's child
        } else if (kind === 'CLIENT') {
          var host = hostOf(h.url);
          other = 'ext:' + (host || 'external service');
        } else if (kind === 'SERVER') {
          var first = spec && spec.stages.length && spec.stages[0].events.some(function (e) { return e.id === h.event; });
          other = 'ext:' + (ev.newTrace ? 'caller of ' + (h.name || 'the endpoint') + ' (new trace)' : first ? 'client' : 'caller');
        } else {
          other = svcName;
        }
        var outgoing = kind === 'CLIENT' ? !response : response;
        items.push(assign(base, {
          kind: response ? 'ret' : 'call',
          from: outgoing ? svcName : other, to: outgoing ? other : svcName,
          t: response ? h.t + (h.dur || 0) : h.t,
          label: h.event + (response ? ' (response)' : ''),
          sub: (h.name || '') + (h.dur ? ' \u00b7 ' + ms(h.dur) : '') + (h.retried ? ' \u00b7 ' + h.retried + ', made again' : ''),
          main: true
        }));
      }
    });

    // Each violation on the hop it names.
    var loose = [];
    d.violations.forEach(function (x) {
      var idx = placeViolation(x, hops);
      if (idx < 0) { loose.push(x); return; }
      var target = null;
      items.forEach(function (it) { if (it.hop === idx && it.main) target = it; });
      if (target) target.violations.push(x); else loose.push(x);
    });

    // Missing stages: dashed arrows where their events should have been.
    var end = items.reduce(function (m, it) { return Math.max(m, it.t); }, 0);
    // services that take part in the flow: they produced one of its records or served one of its spans
    var actors = {};
    items.forEach(function (it) {
      if (it.kind === 'produce') actors[it.from] = true;
      else if (it.kind !== 'consume' && it.main) { actors[it.from] = true; actors[it.to] = true; }
    });
    var lastSvc = null, lastActor = null;
    items.slice().sort(function (a, b) { return a.t - b.t; }).forEach(function (it) {
      if (it.to.indexOf('svc:') !== 0) return;
      lastSvc = it.to;
      if (actors[it.to]) lastActor = it.to;
    });
    /**
     * Who should have produced a missing record: the service of a span event of its own stage, else
     * a consumer of the stage before it that takes part in the flow.
     */
    function missingProducer(stage) {
      var own = stage.events.filter(function (e) { return !e.topic && e.service; })[0];
      if (own) return 'svc:' + own.service;
      // the consumer of a record of its own stage that did come (a reply comes from who got the request)
      var sameStage = null;
      items.forEach(function (it) {
        if (!sameStage && it.kind === 'consume' && it.stage === stage.id) sameStage = it.to;
      });
      if (sameStage) return sameStage;
      var topics = {};
      (stage.after || []).forEach(function (p) {
        var ps = spec.stages[stageRank(spec, p)];
        (ps ? ps.events : []).forEach(function (e) { if (e.topic) topics['topic:' + e.topic] = true; });
      });
      var found = null, any = null;
      items.forEach(function (it) {
        if (it.kind !== 'consume' || !topics[it.from]) return;
        if (actors[it.to] && !found) found = it.to;
        if (!any) any = it.to;
      });
      return found || any || lastActor || lastSvc;
    }
    // Where in the flow an event belongs: its stage's rank, then its place among the stage's events.
    var eventIndex = {};
    (spec ? spec.stages : []).forEach(function (st) {
      st.events.forEach(function (e, k) { eventIndex[e.id] = k; });
    });
    function place(it) {
      return it.rank * 10000 + (eventIndex[it.event] === undefined ? 9999 : eventIndex[it.event]);
    }
    /**
     * The time to draw an event that did not come (or was not observed): just after the last hop
     * that comes before it in the flow (an earlier stage, or an earlier event of its stage), so it
     * sits before the events that follow it — at the first of those when nothing came before it.
     */
    function slot(rank, eventId) {
      var mine = place({rank: rank, event: eventId});
      var before = null, after = null, ownLater = null;
      items.forEach(function (it) {
        if (it.missing || it.unobserved) return;
        if (place(it) < mine) before = before === null ? it.t : Math.max(before, it.t);
        else after = after === null ? it.t : Math.min(after, it.t);
        if (it.rank === rank && place(it) > mine) ownLater = ownLater === null ? it.t : Math.min(ownLater, it.t);
      });
      // an event of a stage whose later events came (an unsampled callback, then its record) sits
      // just before them, not back at the stage before: drawn there, it seemed to come seconds early,
      // or, where its stage came before the stage it follows, its stage seemed to happen twice
      if (ownLater !== null) return ownLater - 0.0005;
      return before !== null ? before + 0.0005 : after !== null ? after : 0;
    }
    var stillLoose = [];
    loose.forEach(function (x) {
      var stage = spec && spec.stages[stageRank(spec, x.stage)];
      if (x.kind === 'MISSING_STAGE' && stage) {
        // where its events should have been: after the hops that come before them in the flow
        var rank = stageRank(spec, stage.id);
        // the events of the stage that did not come (an incomplete stage has some that did)
        stage.events.filter(function (ev) {
          return !hops.some(function (h) { return h.event === ev.id; });
        }).forEach(function (ev, k) {
          var ends = expectedEnds(ev, ev.topic && (producerOf(ev.topic) ? 'svc:' + producerOf(ev.topic)
              : missingProducer(stage)), 'caller', d.flow);
          var from = ends.from, to = ends.to;
          // a record of this flow's trace that went to another instance under a changed key names where it is
          var elsewhere = x.event === ev.id && x.topic !== undefined && x.offset !== undefined;
          items.push({
            hop: -1, stage: stage.id, event: ev.id, violations: k === 0 ? [x] : [], t: slot(rank, ev.id), rank: rank,
            kind: 'missing', from: from, to: to,
            label: ev.id + (elsewhere ? ' \u2014 sent under another key' : ' \u2014 never happened'),
            sub: elsewhere ? x.topic + '[' + x.partition + ']@' + x.offset + ' joined another instance'
                : ev.topic ? 'expected on ' + ev.topic : ev.span || '',
            missing: true, main: true
          });
        });
      } else {
        stillLoose.push(x);
      }
    });

    // Events not observed by design (unsampled spans): greyed, where their stage would be.
    d.unverified.forEach(function (u) {
      var ev = specEvent(spec, u.subject);
      if (!ev || hops.some(function (h) { return h.event === u.subject; })) return;
      if (items.some(function (it) { return it.event === u.subject && it.unobserved; })) return;
      var rank = stageRank(spec, u.stage);
      var t = slot(rank, u.subject);
      var ends = expectedEnds(ev, ev.topic && producerOf(ev.topic) ? 'svc:' + producerOf(ev.topic) : null, 'client',
          d.flow);
      var from = ends.from, to = ends.to;
      items.push({
        hop: -1, stage: u.stage, event: u.subject, violations: [], t: t, rank: rank, kind: 'unobserved',
        from: from, to: to, label: u.subject + ' \u2014 not observed', sub: u.reason, unobserved: true, unverified: u.check + ': ' + u.reason, main: true
      });
    });

    items.sort(function (a, b) { return a.t - b.t || place(a) - place(b); });

    // Lifelines in order of first appearance, with the client first; services that only consumed
    // the flow's records (an analytics job, a consumer of another team) last, marked as such.
    var inFlow = assign({}, actors);
    items.forEach(function (it) { if (it.missing || it.unobserved) { inFlow[it.from] = true; inFlow[it.to] = true; } });
    (spec ? spec.stages : []).forEach(function (st) {
      st.events.forEach(function (e) { if (e.service) inFlow['svc:' + e.service] = true; });
    });
    var outside = {};
    items.forEach(function (it) { if (it.kind === 'consume' && !inFlow[it.to]) outside[it.to] = true; });
    return {items: items, lanes: lanesOf(items, outside), loose: stillLoose, outside: outside};
  }

  /** Lifelines in order of first appearance; those outside the flow last. */
  function lanesOf(items, outside) {
    var lanes = [];
    var index = {};
    function lane(id) {
      if (index[id] === undefined) { index[id] = lanes.length; lanes.push(id); }
    }
    items.forEach(function (it) {
      // a response to an outside caller (the flow's first event read off a response body): the caller first
      var toCaller = /^ext:(client|caller)/.test(it.to);
      if (toCaller && !outside[it.to]) lane(it.to);
      if (!outside[it.from]) lane(it.from);
      if (!outside[it.to]) lane(it.to);
    });
    items.forEach(function (it) { lane(it.from); lane(it.to); });
    return lanes;
  }

  /**
   * The same sequence with Kafka topics folded into the arrows: a record produced and consumed is
   * one arrow from its producer to each consumer, labelled with the topic and the broker dwell. A
   * record no consumer was seen reading (a sink, or a trace sampled out) is an arrow on its
   * producer's lifeline; one that never came keeps its topic's lifeline.
   */
  function foldTopics(seq) {
    var consumed = {};
    seq.items.forEach(function (it) {
      if (it.kind === 'consume') (consumed[it.hop] = consumed[it.hop] || []).push(it);
    });
    var items = [];
    seq.items.forEach(function (it) {
      if (it.kind === 'consume' && it.hop >= 0) return;
      var cs = it.kind === 'produce' ? consumed[it.hop] : null;
      if (!cs && it.kind === 'produce' && it.from.indexOf('svc:') === 0 && !/^svc:(\?|\(producer not seen\))$/.test(it.from)) {
        // no consumer seen (a sink, or a trace sampled out): published from its producer's lifeline
        items.push(assign(assign({}, it), {to: it.from, folded: true, published: true,
          sub: it.sub + ' \u00b7 no consumer seen'}));
        return;
      }
      if (!cs) { items.push(it); return; }
      // the flow's own consumer takes the arrow; one outside the flow (another flow's reader) comes after it
      cs = cs.filter(function (c) { return !seq.outside[c.to]; }).concat(cs.filter(function (c) { return seq.outside[c.to]; }));
      // a repeat counted against a record read again is drawn on the reading again
      var redelivery = it.violations.some(function (v) { return v.kind === 'NON_IDEMPOTENT'; })
          ? cs.findIndex(function (c) { return c.again; }) : -1;
      var marked = redelivery > 0 ? redelivery : 0;
      cs.forEach(function (c, k) {
        // a later consumption (another consumer, or the same one again after a redelivery) is drawn when it began
        items.push(assign(assign({}, it), {
          to: c.to, consumer: c.consumer, folded: true, t: k === 0 ? it.t : c.t,
          violations: k === marked ? it.violations : [],
          label: it.label + (k === 0 ? '' : c.again ? ' (read again)' : ' (consumer ' + (k + 1) + ')'),
          sub: (it.topicLabel || it.to.slice('topic:'.length)) + ' \u00b7 ' + c.sub
        }));
      });
    });
    items.sort(function (a, b) { return a.t - b.t; }); // stable: ties keep the sequence's order
    return {items: items, lanes: lanesOf(items, seq.outside), loose: seq.loose, outside: seq.outside};
  }

  /** The service the report saw producing the topic's records (where their producer spans were seen), or null. */
  /** The host a call event reached where its span was seen (in any instance of the flow), or null. */
  function calledHost(flow, event) {
    var byFlow = meta.called && Object.prototype.hasOwnProperty.call(meta.called, flow) ? meta.called[flow] : null;
    return byFlow && Object.prototype.hasOwnProperty.call(byFlow, event) ? byFlow[event] : null;
  }

  function producerOf(topic) {
    return meta.producers && Object.prototype.hasOwnProperty.call(meta.producers, topic) ? meta.producers[topic] : null;
  }

  function assign(a, b) {
    for (var k in b) if (Object.prototype.hasOwnProperty.call(b, k)) a[k] = b[k];
    return a;
  }

  /**
   * Where an event that did not come (or was not observed) would have gone: a record from its
   * producer to its topic, a call from its service to the external one, a request from its caller
   * ({@code callerName} unless it starts a new trace); a response the other way round.
   */
  function expectedEnds(ev, producer, callerName, flow) {
    if (ev.topic) return {from: producer || 'svc:?', to: 'topic:' + ev.topic};
    var svc = 'svc:' + (ev.service || '?');
    var other = ev.kind === 'CLIENT' ? 'ext:' + (calledHost(flow, ev.id) || 'external service')
        : 'ext:' + (ev.newTrace ? 'caller (new trace)' : callerName);
    var out = ev.kind === 'CLIENT' ? {from: svc, to: other} : {from: other, to: svc};
    return ev.attribute && /response/.test(ev.attribute) ? {from: out.to, to: out.from} : out;
  }

  /** The index of the hop a violation is about, or -1. */
  function placeViolation(x, hops) {
    var i, best = -1;
    function evidenceMatch(h) {
      return (x.spanId && h.spanId === x.spanId) || (x.topic && h.topic === x.topic && h.offset === x.offset && h.partition === x.partition);
    }
    if (x.event) {
      for (i = 0; i < hops.length; i++) if (hops[i].event === x.event && evidenceMatch(hops[i])) best = i;
      if (best >= 0) return best;
      for (i = 0; i < hops.length; i++) {
        if (hops[i].event === x.event) {
          best = i;
          if (x.kind !== 'NON_IDEMPOTENT') break;  // the repeated effect: its last occurrence
        }
      }
      if (best >= 0) return best;
    }
    if (x.kind === 'MISSING_STAGE') return -1;
    for (i = 0; i < hops.length; i++) if (evidenceMatch(hops[i])) return i;
    for (i = 0; i < hops.length; i++) if (hops[i].stage === x.stage) best = i;
    return best;
  }

  // ---- drawing -------------------------------------------------------------------------------------

  var GUTTER = 128, COL = 128, COL_MAX = 176, HEAD = 54, ROW = 40, VLINE = 13;
  /** Width of a character of violation text (10.5 px type), generous: text cut at the edge is worse than a margin. */
  var VTEXT_EM = 6.4;
  /** Width of a character of an arrow's label (11 px type), generous. */
  var LTEXT_EM = 6.6;
  /** Width of a character of the line under an arrow (10 px type), generous. */
  var STEXT_EM = 6.0;

  /** The endpoint an outside caller's lane is named after ("caller of POST /x (new trace)"), else the name itself. */
  function calledEndpoint(name) {
    var m = /^caller of (.*) \(new trace\)$/.exec(name);
    return m ? m[1] : name;
  }

  /**
   * An endpoint in at most {@code room} characters: its method and as many of its last path
   * segments as fit ("POST …/{orderId}/add-on"), which is where endpoints of one API differ.
   */
  function endpointTail(ep, room) {
    if (ep.length <= room) return ep;
    var space = ep.indexOf(' ');
    var method = space > 0 ? ep.slice(0, space + 1) : '';
    var segs = ep.slice(method.length).split('/').filter(function (x) { return x.length > 0; });
    var tail = segs[segs.length - 1] || ep;
    for (var k = segs.length - 2; k >= 0 && (method + '\u2026/' + segs[k] + '/' + tail).length <= room; k--) {
      tail = segs[k] + '/' + tail;
    }
    return cut(method + '\u2026/' + tail, room);
  }

  /** A topic name in at most {@code room} characters where it can be: its last dotted parts ("…collection.scheduled"). */
  function topicTail(name, room) {
    var parts = name.split('.');
    var k = 0;
    while (name.length > room && k < parts.length - 1) {
      k++;
      name = '\u2026' + parts.slice(k).join('.');
    }
    return name;
  }

  function laneLabel(id) {
    var i = id.indexOf(':');
    return {type: id.slice(0, i), name: id.slice(i + 1)};
  }

  function violationLines(x) {
    var lines = [x.kind + ' at ' + x.stage + (x.field ? ' \u00b7 ' + x.field : '')];
    if (x.expected !== undefined || x.actual !== undefined) {
      var said = [];
      if (x.expected !== undefined && x.expected !== null) said.push('expected ' + x.expected);
      if (x.actual !== undefined && x.actual !== null) said.push('actual ' + x.actual);
      // on one line where both fit, else a line each: what a defect is about is often past the 60th character
      if (said.join(' \u00b7 ').length <= 120) lines.push(said.join(' \u00b7 '));
      else said.forEach(function (line) { lines.push(cut(line, 120)); });
    } else {
      lines.push(cut(x.message, 120));
    }
    return lines;
  }

  function drawSequence(seq, onSelect) {
    var items = seq.items, lanes = seq.lanes, outside = seq.outside || {};
    var col = seq.col || COL;
    function x(id) { return GUTTER + lanes.indexOf(id) * col + col / 2; }
    // wide enough for the lanes and for every line of violation text, wherever it starts
    var width = GUTTER + Math.max(1, lanes.length) * col + 40;
    function fit(left, line) { width = Math.max(width, Math.ceil(left + line.length * VTEXT_EM) + 12); }
    /** The label as drawn: on one lifeline, beside its loop. */
    function labelText(it) {
      var x1 = x(it.from), x2 = x(it.to);
      return x1 === x2 ? cut(it.label, 30) : cut(it.label, Math.max(it.missing ? 44 : 26, Math.abs(x2 - x1) / 6.2));
    }
    /** The line under the label as drawn: centred under its arrow, moved right to clear the times' gutter. */
    function subText(it) { return it.sub ? cut(it.sub, 90) : ''; }
    function subLeft(it) {
      var x1 = x(it.from), x2 = x(it.to);
      if (x1 === x2) return loopLeft(it) ? x1 - 46 - subText(it).length * STEXT_EM : x1 + 46;
      return Math.max(GUTTER + 4, (x1 + x2) / 2 - subText(it).length * STEXT_EM / 2);
    }
    function badgeWidth(it) { var mark = it.dup || it.nth; return mark ? 8 + mark.length * 5.6 : 0; }
    /**
     * Whether a loop on one lifeline is drawn to its left: where its label, the line under it and its
     * badge would run past the box's right edge (the last lifeline) and fit left of it.
     */
    function loopLeft(it) {
      var x1 = x(it.from);
      if (x1 !== x(it.to) || !seq.view) return false;
      var reach = 46 + Math.max(cut(it.label, 30).length * LTEXT_EM + (badgeWidth(it) ? 6 + badgeWidth(it) : 0),
          (it.sub ? cut(it.sub, 90).length : 0) * STEXT_EM);
      return x1 + reach + 12 > seq.view && x1 - reach - 8 >= GUTTER;
    }
    /** Where an arrow's label, as drawn, ends. */
    function labelRight(it) {
      var x1 = x(it.from), x2 = x(it.to);
      if (x1 === x2) return loopLeft(it) ? x1 : x1 + 46 + labelText(it).length * LTEXT_EM;
      return (x1 + x2) / 2 + labelText(it).length * LTEXT_EM / 2;
    }
    /** Where the line under an arrow ends, as drawn. */
    function subRight(it) {
      if (!it.sub) return 0;
      if (loopLeft(it)) return x(it.from);
      return subLeft(it) + subText(it).length * STEXT_EM;
    }
    /**
     * Where a duplicate's or an occurrence's badge starts: past its arrow and its label — on one
     * lifeline, on the label's line, clear of the line under it; on a loop drawn to the left, left
     * of its label.
     */
    function badgeLeft(it) {
      if (loopLeft(it)) return x(it.from) - 46 - labelText(it).length * LTEXT_EM - 6 - badgeWidth(it);
      return Math.max(Math.max(x(it.from), x(it.to)), labelRight(it)) + 6;
    }
    /** The top of a badge: on one lifeline beside the label above the loop, else beside the arrow. */
    function badgeTop(it) { return x(it.from) === x(it.to) ? it.y - 20 : it.y - 9; }
    /** Where a line of violation text starts: under its hop, moved left to end in the box where it can. */
    function textLeft(it, line) {
      var under = Math.min(x(it.from), x(it.to));
      var inView = seq.view ? seq.view - line.length * VTEXT_EM - 16 : under;
      return Math.max(GUTTER + 4, Math.min(under, inView));
    }
    items.forEach(function (it) {
      it.violations.forEach(function (v) { violationLines(v).forEach(function (line) { fit(textLeft(it, line), line); }); });
      if (it.dup || it.nth) fit(badgeLeft(it), it.dup || it.nth);
      // an arrow's label and the line under it, which run past the last lifeline on an arrow back to it
      width = Math.max(width, Math.ceil(labelRight(it)) + 12, Math.ceil(subRight(it)) + 12);
    });
    seq.loose.forEach(function (v) { violationLines(v).forEach(function (line) { fit(6, line); }); });
    // Row heights: a violated hop needs room for its violations' text.
    var y = HEAD + 14;
    items.forEach(function (it) {
      it.y = y + 22;
      var extra = 0;
      it.violations.forEach(function (x) { extra += violationLines(x).length * VLINE; });
      if ((it.unverified || it.unsampled) && !it.unobserved) extra += VLINE;
      it.h = ROW + extra;
      y += it.h;
    });
    var height = y + 16 + (seq.loose.length ? seq.loose.length * 2 * VLINE + 10 : 0);
    var root = svg('svg', {'class': 'seq', width: width, height: height, viewBox: '0 0 ' + width + ' ' + height, role: 'img'});
    root.appendChild(svg('title', null, 'sequence diagram'));
    var defs = svg('defs');
    [['ah', ''], ['ah-bad', 'bad'], ['ah-grey', 'grey'], ['ah-consume', 'consume']].forEach(function (m) {
      var mk = svg('marker', {id: m[0], viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse'});
      mk.appendChild(svg('path', {d: 'M0,0 L10,5 L0,10 z', 'class': 'ah ' + m[1]}));
      defs.appendChild(mk);
    });
    root.appendChild(defs);

    // Stage bands: consecutive rows of one stage.
    var bands = [];
    items.forEach(function (it) {
      var b = bands[bands.length - 1];
      if (b && b.stage === it.stage) { b.end = it.y - 22 + it.h; }
      else bands.push({stage: it.stage, start: it.y - 22, end: it.y - 22 + it.h});
    });
    // stage names that do not fit show what tells them apart (namespaced ones share a long prefix)
    var stageNames = [];
    bands.forEach(function (b) { if (stageNames.indexOf(b.stage) < 0) stageNames.push(b.stage); });
    var shortStages = distinctParts(stageNames, 20);
    bands.forEach(function (b, i) {
      var g = svg('g', {'class': 'stageband', 'data-stage': b.stage});
      g.appendChild(svg('rect', {'class': 'band' + (i % 2 ? ' alt' : ''), x: 0, y: b.start, width: width, height: b.end - b.start}));
      g.appendChild(svg('text', {'class': 'bandlabel', x: 6, y: b.start + 14}, cut(shortStages[stageNames.indexOf(b.stage)], 20)));
      g.appendChild(svg('title', null, 'stage ' + b.stage));
      root.appendChild(g);
    });

    // Lifelines: names that do not fit show what tells them apart from the others of their kind; a
    // caller from outside is named by the endpoint it called (two of them are not "caller of POST /api/…" twice).
    var shortNames = {};
    ['topic', 'svc', 'ext'].forEach(function (type) {
      var mine = lanes.filter(function (id) { return laneLabel(id).type === type; }).map(function (id) { return laneLabel(id).name; });
      mine = mine.map(calledEndpoint);
      var shortened = distinctParts(mine, 2 * Math.floor((col - 14) / 6.4));
      lanes.filter(function (id) { return laneLabel(id).type === type; }).forEach(function (id, i) {
        var name = laneLabel(id).name;
        var room = 2 * Math.floor((col - 14) / 6.4);
        shortNames[id] = calledEndpoint(name) !== name ? endpointTail(calledEndpoint(name), room)
          : type === 'topic' ? topicTail(shortened[i], room) : shortened[i];
      });
    });
    lanes.forEach(function (id) {
      var l = laneLabel(id);
      l.shown = shortNames[id] || l.name;
      var caller = l.type === 'ext' && calledEndpoint(l.name) !== l.name;
      var cx = x(id);
      root.appendChild(svg('line', {'class': 'life', x1: cx, y1: HEAD, x2: cx, y2: height - 8}));
      var g = svg('g', {'class': 'head ' + l.type, 'data-lane': id});
      g.appendChild(svg('rect', {x: cx - col / 2 + 6, y: 8, width: col - 12, height: HEAD - 14, rx: l.type === 'topic' ? 12 : 4}));
      var nameLines = twoLines(l.shown, Math.floor((col - 14) / 6.4));
      var room = Math.floor((col - 14) / 6.4);
      nameLines.forEach(function (line, i) {
        var text = {x: cx, y: (nameLines.length > 1 ? 20 : 26) + i * 12, 'text-anchor': 'middle'};
        if (line.length > room) { // a word kept whole, narrowed to the box
          text.textLength = col - 16;
          text.lengthAdjust = 'spacingAndGlyphs';
        }
        g.appendChild(svg('text', text, line));
      });
      g.appendChild(svg('text', {'class': 'what', x: cx, y: nameLines.length > 1 ? 44 : 40, 'text-anchor': 'middle'},
        l.type === 'topic' ? 'Kafka topic' : caller ? 'caller' : l.type === 'ext' ? 'external'
          : outside[id] ? 'outside the flow' : 'service'));
      g.appendChild(svg('title', null, l.name));
      root.appendChild(g);
    });

    // Arrows.
    items.forEach(function (it, n) {
      var cls = 'hop ' + it.kind;
      if (it.violations.length) cls += ' bad';
      // an unsampled hop whose spans nothing needed is verified (its record was): noted, not greyed
      if (it.unverified) cls += ' unverified';
      if (it.dup) cls += ' dup';
      var g = svg('g', {'class': cls, 'data-event': it.event, 'data-stage': it.stage, 'data-index': n,
        'data-from': it.from, 'data-to': it.to});
      if (it.violations.length) {
        g.setAttribute('data-kinds', it.violations.map(function (v) { return v.kind; }).join(' '));
      }
      var x1 = x(it.from), x2 = x(it.to), yy = it.y;
      var top = it.y - 22;
      g.appendChild(svg('rect', {'class': 'hit', x: GUTTER - 4, y: top, width: width - GUTTER, height: it.h}));
      g.appendChild(svg('text', {'class': 'time', x: 6, y: yy + 4}, at(it.t)));
      var marker = it.violations.length || it.missing ? 'ah-bad' : it.unverified || it.unobserved ? 'ah-grey' : it.kind === 'consume' ? 'ah-consume' : 'ah';
      var mid;
      if (x1 === x2) {
        var left = loopLeft(it);
        g.appendChild(svg('path', {'class': 'arrow', d: 'M' + x1 + ',' + (yy - 6) + (left ? ' h-40 v12 h38' : ' h40 v12 h-38'),
          'marker-end': 'url(#' + marker + ')'}));
        mid = left ? x1 - 46 : x1 + 46;
        g.appendChild(svg('text', {'class': 'lbl', x: mid, y: yy - 9, 'text-anchor': left ? 'end' : 'start'}, labelText(it)));
      } else {
        g.appendChild(svg('line', {x1: x1, y1: yy, x2: x2 + (x2 > x1 ? -2 : 2), y2: yy, 'marker-end': 'url(#' + marker + ')'}));
        mid = (x1 + x2) / 2;
        g.appendChild(svg('text', {'class': 'lbl', x: mid, y: yy - 5, 'text-anchor': 'middle'}, labelText(it)));
      }
      if (it.sub) {
        g.appendChild(svg('text', {'class': 'sub', x: subLeft(it), y: yy + 12}, subText(it)));
      }
      var ty = yy + 12;
      if ((it.unverified || it.unsampled) && !it.unobserved) {
        ty += VLINE;
        g.appendChild(svg('text', {'class': 'sub', x: mid, y: ty, 'text-anchor': 'middle'},
            cut(it.unverified ? 'not verified \u2014 ' + it.unverified : it.unsampled === 'lost'
                ? 'its spans did not reach this run (exported before it started)' : 'unsampled trace: no spans exported', 80)));
      }
      it.violations.forEach(function (v) {
        violationLines(v).forEach(function (line) {
          ty += VLINE;
          g.appendChild(svg('text', {'class': 'vtext', x: textLeft(it, line), y: ty}, line));
        });
      });
      if (it.dup || it.nth) {
        var mark = it.dup || it.nth;
        var bx = badgeLeft(it);
        var badge = svg('g', {'class': it.dup ? 'badge' : 'badge nth'});
        var by = badgeTop(it);
        badge.appendChild(svg('rect', {x: bx, y: by, width: badgeWidth(it), height: 14, rx: 3}));
        badge.appendChild(svg('text', {x: bx + 4, y: by + 11}, mark));
        g.appendChild(badge);
      }
      var tip = it.label + (it.topic ? '\n' + it.topic : '') + (it.sub ? '\n' + it.sub : '');
      it.violations.forEach(function (v) { tip += '\n' + v.kind + ': ' + v.message; });
      g.appendChild(svg('title', null, tip));
      g.addEventListener('click', function () {
        var prev = root.querySelector('.hop.sel');
        if (prev) prev.classList.remove('sel');
        g.classList.add('sel');
        onSelect(it);
      });
      root.appendChild(g);
    });

    // Violations no hop carries.
    var ly = y + 10;
    seq.loose.forEach(function (v) {
      var g = svg('g', {'class': 'hop bad loose', 'data-kinds': v.kind, 'data-stage': v.stage});
      violationLines(v).forEach(function (line) {
        ly += VLINE;
        g.appendChild(svg('text', {'class': 'vtext', x: 6, y: ly}, line));
      });
      root.appendChild(g);
    });
    return root;
  }

  // ---- the hop panel -------------------------------------------------------------------------------

  function showHop(panel, d, it) {
    panel.textContent = '';
    panel.hidden = false;
    var h = it.hop >= 0 ? d.hops[it.hop] : null;
    var close = el('button', 'close', '\u00d7');
    close.title = 'close';
    close.addEventListener('click', function () { panel.hidden = true; });
    panel.appendChild(close);
    panel.appendChild(el('h3', null, it.event + ' \u00b7 ' + it.stage));
    var t = el('table');
    function rowOf(k, v) {
      if (v === undefined || v === null || v === '') return;
      var tr = el('tr');
      add(tr, el('td', null, k), el('td', null, v));
      t.appendChild(tr);
    }
    if (!h) {
      rowOf('state', it.missing ? 'missing: this stage never happened' : 'not observed');
      rowOf('expected', it.sub);
      if (it.unverified) rowOf('why', it.unverified);
    } else {
      rowOf('where', h.where);
      rowOf('at', at(h.t) + ' from the instance start');
      rowOf('service', h.service);
      rowOf('span', h.name ? (h.kind || '') + ' \u2018' + h.name + '\u2019' : undefined);
      rowOf('span time', h.dur ? ms(h.dur) : undefined);
      rowOf('trace id', h.traceId);
      rowOf('span id', h.spanId);
      rowOf('attempt', h.retried ? 'failed (' + h.retried + ') and made again: the checks read the attempt that answered' : undefined);
      if (h.topic) {
        rowOf('topic', h.topic);
        rowOf('partition', String(h.partition));
        rowOf('offset', String(h.offset));
        rowOf('record time', at(h.rt));
      }
      (h.consumers || []).forEach(function (c, i) {
        rowOf('consumer ' + (i + 1), (c.service || '?') + ' at ' + at(c.t) + ' (' + dwellText(h, c) + ')\ntrace ' + c.traceId + ' span ' + c.spanId);
      });
      rowOf('url', h.url);
      if (h.spansLost) rowOf('sampled', 'yes \u2014 but its spans were exported before this run started (to the run before it, or to no one)');
      else if (h.unsampled) rowOf('sampled', 'no \u2014 its trace was not sampled');
      if (it.unverified) rowOf('not verified', it.unverified);
      if (it.dup) rowOf('duplicate', it.dup);
      else if (it.nth) rowOf('occurrence', it.nth.replace('\u00d7', '') + ' of ' + it.event + ' in this instance (not a duplicate: the idempotency check found none)');
      if (it.consumer) {
        rowOf('this arrow', (it.folded ? 'sent to ' + h.topic + ' at ' + at(h.t) + ', ' : '') + 'consumed by '
            + it.consumer.service + ' at ' + at(it.consumer.t));
      }
    }
    panel.appendChild(t);
    var vs = it.violations.length ? it.violations : (h ? d.violations.filter(function (x) { return placeViolation(x, d.hops) === it.hop; }) : []);
    if (vs.length) {
      panel.appendChild(el('h4', null, 'violations'));
      var ul = el('ul', 'violations');
      vs.forEach(function (x) { ul.appendChild(violationItem(x)); });
      panel.appendChild(ul);
    }
    if (h && h.problems && h.problems.length) {
      panel.appendChild(el('h4', null, 'schema problems'));
      h.problems.forEach(function (p) { panel.appendChild(el('div', 'problems', p)); });
    }
    if (h) {
      panel.appendChild(el('h4', null, 'payload'));
      if (h.payload === undefined) {
        panel.appendChild(el('div', 'hint', 'no payload (not decodable, or not captured)'));
      } else {
        var fields = {};
        vs.forEach(function (x) { if (x.field) fields[normPath(x.field)] = x; });
        panel.appendChild(prettyJson(h.payload, fields));
      }
    }
  }

  /** Pretty JSON as text nodes; fields named by violations highlighted, absent ones added as such. */
  function prettyJson(value, fields) {
    var pre = el('pre', 'json');
    var found = {};
    function line(indent, parts, path) {
      var l = el('span', 'line');
      l.appendChild(doc.createTextNode(new Array(indent + 1).join('  ')));
      parts.forEach(function (p) { l.appendChild(p); });
      if (path !== null && fields[normPath(path)]) {
        l.classList.add('hl');
        found[normPath(path)] = true;
      }
      pre.appendChild(l);
    }
    function scalar(v) {
      if (v === null) return el('span', 'lit', 'null');
      if (typeof v === 'string') return el('span', 'str', JSON.stringify(v));
      if (typeof v === 'number') return el('span', 'num', String(v));
      return el('span', 'lit', String(v));
    }
    function walk(v, indent, keyPart, path, comma) {
      var pre1 = keyPart ? [keyPart] : [];
      var tail = comma ? ',' : '';
      if (v !== null && typeof v === 'object') {
        var isArr = Array.isArray(v);
        var keys = isArr ? v.map(function (_, i) { return i; }) : Object.keys(v);
        if (!keys.length) { line(indent, pre1.concat([doc.createTextNode(isArr ? '[]' + tail : '{}' + tail)]), path); return; }
        line(indent, pre1.concat([doc.createTextNode(isArr ? '[' : '{')]), path);
        keys.forEach(function (k, i) {
          var childPath = isArr ? path + '[' + k + ']' : (path ? path + '.' + k : String(k));
          var kp = isArr ? null : el('span', 'key', JSON.stringify(String(k)) + ': ');
          walk(v[k], indent + 1, kp, childPath, i < keys.length - 1);
        });
        line(indent, [doc.createTextNode((isArr ? ']' : '}') + tail)], null);
      } else {
        line(indent, pre1.concat([scalar(v), doc.createTextNode(tail)]), path);
      }
    }
    walk(value, 0, null, '', false);
    Object.keys(fields).forEach(function (f) {
      if (found[f]) return;
      var l = el('span', 'line missing', '  ' + JSON.stringify(f) + ': absent \u2014 ' + fields[f].kind);
      pre.appendChild(l);
    });
    return pre;
  }

  // ---- start ----------------------------------------------------------------------------------------

  function markReady() {
    var t = performance.now();
    requestAnimationFrame(function () {
      doc.body.setAttribute('data-ready-ms', String(Math.round(Math.max(t, performance.now()))));
    });
  }

  function startStatic() {
    meta = readJson('ft-meta');
    rows = readJson('ft-rows') || [];
    doc.body.setAttribute('data-parsed-ms', String(Math.round(performance.now())));
    doc.title = meta.title || doc.title;
    build();
    if (MODE === 'single') {
      if (rows.length) openInstance(rows[0]);
      markReady();
      return;
    }
    renderSummary(meta.summary);
    renderRows(markReady);
    openFromHash();
    window.addEventListener('hashchange', openFromHash);
  }

  /** {@code #i=TEXT} opens the first instance whose keys contain TEXT: a link to one instance. */
  function openFromHash() {
    var h = location.hash;
    if (h.indexOf('#i=') !== 0) return;
    var want = decodeURIComponent(h.slice(3));
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].keyText.indexOf(want) >= 0) {
        // the table narrowed to the instances the link names, so the one opened is in sight above its detail
        finishBuilding();
        ui.fText.value = want;
        applyFilters();
        openInstance(rows[i]);
        return;
      }
    }
  }

  var liveSeq = 0;

  function startLive() {
    meta = {title: 'flowtrace sidecar \u2014 live verdicts', flows: {}};
    build();
    var first = true;
    function tick() {
      fetch('verdicts.json', {cache: 'no-store'}).then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      }).then(function (data) {
        meta.flows = data.flows || {};
        var known = {};
        rows.forEach(function (r) { known[r.id] = r; });
        var next = data.verdicts.map(function (r) {
          var old = known[r.id];
          r.seq = r.seq === undefined ? ++liveSeq : r.seq;
          if (old && old.rev === r.rev && old.status === r.status) return old;
          return r;
        });
        var changed = next.length !== rows.length || next.some(function (r) { return known[r.id] !== r; });
        renderSummary(data.summary);
        if (changed) {
          rows = next;
          renderRows();
          if (openRow) {
            var still = rows.filter(function (r) { return r.id === openRow.id; })[0];
            if (still) { openRow = still; if (still.el) still.el.classList.add('open'); }
          }
        }
        ui.liveStatus.className = 'live-status';
        ui.liveStatus.textContent = 'updated ' + new Date().toLocaleTimeString() + ' \u00b7 refreshes every ' + (data.refreshSeconds || 3) + ' s';
        if (first) { first = false; markReady(); }
      }).catch(function (e) {
        ui.liveStatus.className = 'live-status err';
        ui.liveStatus.textContent = 'could not refresh: ' + e.message;
      }).then(function () { setTimeout(tick, 3000); });
    }
    tick();
  }

  try {
    if (MODE === 'live') startLive(); else startStatic();
  } catch (e) {
    app.textContent = '';
    app.appendChild(el('pre', null, 'flowtrace: this page could not be drawn: ' + e));
    throw e;
  }
})();
