/*
 * checkin.js - the door's page (/checkin/): sign in, pick an event, scan
 * tickets with the camera or type their codes, and keep working offline.
 *
 * Every scan goes into a queue kept in IndexedDB and is sent with the
 * event's offline sync (POST /api/events/{id}/check-ins/sync/), which
 * decides it: ok, already_checked_in, unknown, cancelled or other_event.
 * When the server cannot be reached, the page decides from the ticket list
 * it downloaded (GET /api/events/{id}/registrations/) and the door's
 * changes (GET /api/events/{id}/check-ins/?since=), and sends the queue when
 * the network is back. Nothing here needs a build step.
 */
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  const SYNC_MAX = 1000;          /* scans in one batch (docs/api.md) */
  const REQUEST_MS = 6000;        /* a request slower than this counts as offline */
  const POLL_MS = 15000;          /* the door's changes, and queued scans, this often */
  const REPEAT_MS = 2500;         /* the same code again within this is one scan */
  const ANSWER_MS = 2500;         /* a green answer closes itself after this */

  /* ---- storage: IndexedDB ------------------------------------------------ */

  let dbPromise = null;

  function request(r) {
    return new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  }

  function database() {
    if (dbPromise === null) {
      dbPromise = new Promise((resolve, reject) => {
        const open = indexedDB.open('eventapi-checkin', 1);
        open.onupgradeneeded = () => {
          const db = open.result;
          db.createObjectStore('kv');                                   /* settings */
          db.createObjectStore('tickets', {keyPath: 'code'});          /* the event's list */
          db.createObjectStore('queue', {keyPath: 'id', autoIncrement: true}); /* unsent scans */
        };
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
    }
    return dbPromise;
  }

  async function objects(name, mode) {
    return (await database()).transaction(name, mode || 'readonly').objectStore(name);
  }

  async function transaction(names, fill) {
    const db = await database();
    return new Promise((resolve, reject) => {
      const t = db.transaction(names, 'readwrite');
      fill(t);
      t.oncomplete = () => resolve();
      t.onerror = t.onabort = () => reject(t.error);
    });
  }

  const get = async (key) => request((await objects('kv')).get(key));
  const set = async (key, value) => request((await objects('kv', 'readwrite')).put(value, key));
  const drop = async (key) => request((await objects('kv', 'readwrite')).delete(key));
  const ticket = async (code) => request((await objects('tickets')).get(code));
  const saveTicket = async (t) => request((await objects('tickets', 'readwrite')).put(t));
  const ticketCount = async () => request((await objects('tickets')).count());
  const queuedCount = async () => request((await objects('queue')).count());

  /* ---- state ------------------------------------------------------------- */

  const state = {
    auth: null,        /* {type: 'bearer', access, refresh} or {type: 'key', key} */
    device: '',        /* this scanner's name, sent with every scan */
    event: null,       /* {id, title, date_time, location} */
    cursor: 0,         /* the last door version applied */
    types: {},         /* ticket type id -> name */
    online: navigator.onLine,
  };

  class NetworkError extends Error {}

  /* ---- the API ----------------------------------------------------------- */

  function authorization() {
    if (state.auth === null)
      return null;
    return state.auth.type === 'key' ? 'Api-Key ' + state.auth.key : 'Bearer ' + state.auth.access;
  }

  async function send(method, path, body) {
    const headers = {'Accept': 'application/json', 'X-Device': state.device};
    const auth = authorization();
    if (auth)
      headers['Authorization'] = auth;
    if (body !== undefined)
      headers['Content-Type'] = 'application/json';
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), REQUEST_MS);
    let response;
    try {
      response = await fetch(path, {method, headers, cache: 'no-store', signal: abort.signal,
                                    body: body === undefined ? undefined : JSON.stringify(body)});
    } catch (e) {
      throw new NetworkError(String(e));
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try {
      data = response.status === 204 ? null : await response.json();
    } catch (e) {
      if (response.status >= 500 || response.status === 0)
        throw new NetworkError('answer ' + response.status);
    }
    if (response.status >= 500)
      throw new NetworkError('answer ' + response.status);
    return {status: response.status, data};
  }

  /* A request as the signed-in user: a token that ran out is refreshed once. */
  async function api(method, path, body) {
    let r = await send(method, path, body);
    if (r.status === 401 && state.auth && state.auth.type === 'bearer' && state.auth.refresh) {
      const fresh = await send('POST', '/auth/token/refresh/', {refresh: state.auth.refresh});
      if (fresh.status === 200 && fresh.data && fresh.data.access) {
        state.auth = {type: 'bearer', access: fresh.data.access,
                      refresh: fresh.data.refresh || state.auth.refresh};
        await set('auth', state.auth);
        r = await send(method, path, body);
      }
    }
    if (r.status === 401)
      signedOut('Your sign-in has ended: sign in again. Scans not yet sent are kept.');
    setOnline(true);
    return r;
  }

  function message(data) {
    if (data && typeof data.detail === 'string')
      return data.detail;
    return data ? JSON.stringify(data) : 'No answer.';
  }

  /* ---- screens ----------------------------------------------------------- */

  function show(screen) {
    for (const id of ['login', 'events', 'scan'])
      $(id).hidden = id !== screen;
    if (screen === 'scan')
      startCamera();
    else
      stopCamera();
  }

  function setOnline(online) {
    state.online = online;
    status();
  }

  async function status() {
    const pending = await queuedCount();
    $('pending').textContent = String(pending);
    const where = state.online ? 'Online' : 'Offline: scans are decided here and sent later';
    const who = state.device ? ' · ' + state.device : '';
    $('status').textContent = where + who;
    $('status').classList.toggle('offline', !state.online);
    document.body.dataset.online = state.online ? 'yes' : 'no';
    document.body.dataset.pending = String(pending);
  }

  async function figures() {
    $('count-tickets').textContent = String(await ticketCount());
    let checkedIn = 0;
    const all = await request((await objects('tickets')).getAll());
    for (const t of all)
      if (t.checked_in_at)
        checkedIn++;
    $('count-in').textContent = String(checkedIn);
  }

  function signedOut(why) {
    state.auth = null;
    drop('auth');
    $('login-error').textContent = why || '';
    show('login');
  }

  /* ---- sign in and pick an event ----------------------------------------- */

  async function signIn(event) {
    event.preventDefault();
    unlockSound();
    $('login-error').textContent = '';
    try {
      const r = await send('POST', '/auth/token/', {username: $('username').value,
                                                     password: $('password').value});
      if (r.status !== 200) {
        $('login-error').textContent = message(r.data);
        return;
      }
      state.auth = {type: 'bearer', access: r.data.access, refresh: r.data.refresh};
      $('password').value = '';
      await set('auth', state.auth);
      await pickEvent();
    } catch (e) {
      $('login-error').textContent = 'The server cannot be reached: ' + e.message;
    }
  }

  async function useKey(event) {
    event.preventDefault();
    unlockSound();
    state.auth = {type: 'key', key: $('api-key').value.trim()};
    $('api-key').value = '';
    await set('auth', state.auth);
    await pickEvent();
  }

  function when(iso) {
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString([], {weekday: 'short', day: 'numeric', month: 'short',
                                                   hour: '2-digit', minute: '2-digit'});
  }

  async function pickEvent() {
    show('events');
    $('events-error').textContent = '';
    const list = $('event-list');
    list.replaceChildren();
    let r;
    try {
      r = await api('GET', '/api/events/door/?limit=100');
    } catch (e) {
      $('events-error').textContent = 'The server cannot be reached: ' + e.message;
      return;
    }
    if (r.status !== 200) {
      if (r.status !== 401)
        $('events-error').textContent = message(r.data);
      return;
    }
    if (r.data.results.length === 0)
      $('events-error').textContent = 'You check in at no event: its organizer can add you to its staff.';
    for (const e of r.data.results) {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.event = String(e.id);
      button.append(e.title);
      const small = document.createElement('small');
      small.textContent = when(e.date_time) + ' · ' + e.location;
      button.append(small);
      button.addEventListener('click', () => chooseEvent(e));
      item.append(button);
      list.append(item);
    }
  }

  async function chooseEvent(e) {
    unlockSound();
    const changed = state.event === null || state.event.id !== e.id;
    state.event = {id: e.id, title: e.title, date_time: e.date_time, location: e.location};
    await set('event', state.event);
    $('title').textContent = e.title;
    if (changed) {
      state.cursor = 0;
      await set('cursor', 0);
      await transaction(['tickets'], (t) => t.objectStore('tickets').clear());
    }
    show('scan');
    await download();
  }

  /* ---- the event's list and the door's changes ---------------------------- */

  function holderName(user) {
    const full = [user.first_name, user.last_name].filter((s) => s).join(' ');
    return full || user.username;
  }

  async function download() {
    const id = state.event.id;
    document.body.dataset.ready = 'no';
    try {
      const stats = await api('GET', '/api/events/' + id + '/check-ins/stats/');
      if (stats.status === 200)
        for (const t of stats.data.ticket_types)
          state.types[t.id] = t.name;
      await set('types', state.types);
      const tickets = [];
      /* Every active registration of the event, in one answer. */
      const r = await api('GET', '/api/events/' + id + '/registrations/');
      if (r.status === 200) {
        for (const reg of r.data)
          if (reg.ticket)
            tickets.push({code: reg.ticket.code, name: holderName(reg.user),
                          ticket_type: reg.ticket_type,
                          checked_in_at: reg.ticket.checked_in_at || null, device: null});
      } else {
        $('camera-note').textContent = 'The ticket list cannot be downloaded (' + message(r.data) +
                                       '): scans need the network.';
      }
      await transaction(['tickets'], (t) => {
        const store = t.objectStore('tickets');
        store.clear();
        for (const item of tickets)
          store.put(item);
      });
      state.cursor = 0;
      await changes();
      document.body.dataset.ready = 'yes';
    } catch (e) {
      if (!(e instanceof NetworkError))
        throw e;
      setOnline(false);
      document.body.dataset.ready = (await ticketCount()) > 0 ? 'yes' : 'no';
    }
    await figures();
    await status();
  }

  /* Applies the door's changes since the last version seen. */
  async function changes() {
    if (state.event === null)
      return;
    for (;;) {
      const r = await api('GET', '/api/events/' + state.event.id + '/check-ins/?since=' + state.cursor);
      if (r.status !== 200)
        return;
      for (const row of r.data.results) {
        const t = await ticket(row.ticket);
        if (t === undefined)
          continue;
        if (row.action === 'check_in') {
          t.checked_in_at = row.at;
          t.device = row.device;
        } else {
          t.checked_in_at = null;
          t.device = null;
        }
        await saveTicket(t);
      }
      state.cursor = r.data.cursor;
      await set('cursor', state.cursor);
      if (!r.data.more)
        return;
    }
  }

  /* ---- scans ------------------------------------------------------------- */

  let flushing = null;

  /* Sends the queued scans; a map of queue id -> the server's answer. */
  function flush() {
    if (flushing === null)
      flushing = sendQueue().finally(() => { flushing = null; });
    return flushing;
  }

  /*
   * Every event's scans go, not only the event at hand: a door that changed
   * event (or signed in again) with scans still waiting sends them too, each
   * batch to its own event's sync. An event whose batch cannot go now (the
   * network, or the staff's access, is gone) keeps its scans for the next
   * round and does not hold up the others.
   */
  async function sendQueue() {
    const answers = new Map();
    const held = new Set();
    for (;;) {
      const scans = await request((await objects('queue')).getAll());
      const first = scans.find((s) => !held.has(s.event));
      if (first === undefined)
        break;
      const event = first.event;
      const mine = scans.filter((s) => s.event === event).slice(0, SYNC_MAX);
      const here = state.event && state.event.id === event;
      const r = await api('POST', '/api/events/' + event + '/check-ins/sync/',
                          {scans: mine.map((s) => ({code: s.code, scanned_at: s.scanned_at,
                                                    device: s.device}))});
      if (r.status === 400 && r.data && Array.isArray(r.data.scans)) {
        /* A scan that can never be read (a typed code too long): drop it alone. */
        const bad = mine.filter((s, i) => Object.keys(r.data.scans[i] || {}).length > 0);
        await transaction(['queue'], (t) => { for (const s of bad) t.objectStore('queue').delete(s.id); });
        for (const s of bad)
          answers.set(s.id, {status: 'unreadable', detail: JSON.stringify(r.data.scans[mine.indexOf(s)])});
        if (bad.length > 0)
          continue;
      }
      if (r.status !== 200) {
        held.add(event);
        continue;
      }
      await transaction(['queue'], (t) => { for (const s of mine) t.objectStore('queue').delete(s.id); });
      for (let i = 0; i < mine.length; i++) {
        const answer = r.data.results[i];
        answers.set(mine[i].id, answer);
        const t = here ? await ticket(answer.code) : undefined; /* the list is this event's */
        if (t !== undefined && (answer.status === 'ok' || answer.status === 'already_checked_in')) {
          t.checked_in_at = answer.checked_in_at;
          t.device = answer.device;
          await saveTicket(t);
        }
      }
    }
    await status();
    await figures();
    return answers;
  }

  function typeName(t) {
    const name = t && t.ticket_type !== null ? state.types[t.ticket_type] : null;
    return name || '';
  }

  /* The lines of an answer's detail, the empty ones left out. */
  function lines(...parts) {
    return parts.filter((p) => p).join('\n');
  }

  function seen(iso, device) {
    return 'Checked in ' + when(iso) + (device ? ' at ' + device : '');
  }

  /* The answer to show for the server's decision on a scan. */
  function answerOf(answer, t, code) {
    switch (answer.status) {
    case 'ok':
      return {kind: 'ok', title: t ? t.name : 'Welcome', detail: lines(t ? '' : code, typeName(t))};
    case 'already_checked_in':
      return {kind: 'warn', title: 'Already checked in',
              detail: lines(t && t.name, typeName(t), seen(answer.checked_in_at, answer.device))};
    case 'cancelled':
      return {kind: 'bad', title: 'Cancelled ticket', detail: 'Its registration was cancelled.\n' + code};
    case 'other_event':
      return {kind: 'bad', title: 'Another event', detail: 'This ticket is for another event.\n' + code};
    case 'unknown':
      return {kind: 'bad', title: 'Unknown ticket', detail: 'No ticket has this code.\n' + code};
    default:
      return {kind: 'bad', title: 'Not a ticket code', detail: code};
    }
  }

  /* The answer when the server cannot be reached: from the downloaded list. */
  async function decideHere(code, scan) {
    const t = await ticket(code);
    if (t === undefined)
      return {kind: 'bad', title: 'Not on the list',
              detail: 'No ticket of this event has this code (offline: the list as downloaded).\n' + code};
    if (t.checked_in_at)
      return {kind: 'warn', title: 'Already checked in',
              detail: lines(t.name, typeName(t), seen(t.checked_in_at, t.device))};
    t.checked_in_at = scan.scanned_at;
    t.device = scan.device;
    await saveTicket(t);
    return {kind: 'ok', title: t.name, detail: lines(typeName(t), '(offline: sent when back online)')};
  }

  let lastCode = '', lastAt = 0, scans = Promise.resolve();

  /*
   * A code read by the camera, or typed (typed is true). Scans are decided
   * one at a time, in the order they came. The camera's are dropped while
   * an answer is on the screen, and when it read the same code just
   * before; a typed code is never dropped: it closes the answer shown.
   */
  function scanned(raw, typed) {
    const next = scans.then(() => decide(String(raw).trim(), typed === true));
    scans = next.catch(() => {});
    return next;
  }

  async function decide(code, typed) {
    const now = Date.now();
    if (code === '' || state.event === null)
      return;
    if (!typed && ($('result').hidden === false || (code === lastCode && now - lastAt < REPEAT_MS)))
      return;
    if (typed && $('result').hidden === false)
      closeAnswer();
    const scan = {event: state.event.id, code, scanned_at: new Date(now).toISOString(),
                  device: state.device};
    scan.id = await request((await objects('queue', 'readwrite')).add(scan));
    await status();
    let verdict = null;
    try {
      /* A round already under way (the poll's) may have read the queue
       * before this scan joined it: then the next round sends it. */
      let answers = await flush();
      if (!answers.has(scan.id))
        answers = await flush();
      const answer = answers.get(scan.id);
      if (answer)
        verdict = answerOf(answer, await ticket(code), code);
    } catch (e) {
      if (!(e instanceof NetworkError))
        throw e;
      setOnline(false);
    }
    if (verdict === null)
      verdict = await decideHere(code, scan);
    lastCode = code;
    showAnswer(verdict);
    await figures();
    await status();
  }

  /* ---- the answer: full screen, and a sound ------------------------------ */

  let closeTimer = null;

  function showAnswer(v) {
    stopCamera();
    const box = $('result');
    box.className = v.kind;
    $('result-mark').textContent = v.kind === 'ok' ? '✓' : v.kind === 'warn' ? '!' : '✕';
    $('result-title').textContent = v.title;
    $('result-detail').textContent = v.detail;
    box.hidden = false;
    document.body.dataset.result = v.kind;
    beep(v.kind);
    if (v.kind === 'ok' && !$('hold').checked)
      closeTimer = setTimeout(closeAnswer, ANSWER_MS);
  }

  function closeAnswer() {
    clearTimeout(closeTimer);
    closeTimer = null;
    $('result').hidden = true;
    document.body.dataset.result = '';
    lastAt = Date.now();
    if (!$('scan').hidden)
      startCamera();
  }

  let audio = null;

  function unlockSound() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (audio === null && Context)
      audio = new Context();
    if (audio && audio.state === 'suspended')
      audio.resume();
  }

  function beep(kind) {
    if (audio === null)
      return;
    const tones = kind === 'ok' ? [[880, 0, 0.15]] :
                  kind === 'warn' ? [[660, 0, 0.12], [660, 0.2, 0.12]] : [[220, 0, 0.5]];
    for (const [freq, start, length] of tones) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      osc.type = kind === 'bad' ? 'square' : 'sine';
      gain.gain.value = 0.25;
      osc.connect(gain).connect(audio.destination);
      osc.start(audio.currentTime + start);
      osc.stop(audio.currentTime + start + length);
    }
  }

  /* ---- the camera -------------------------------------------------------- */

  /*
   * The camera is on only while the scanner shows no answer. Opening it
   * takes a while (a permission, a device), and an answer can come up
   * meanwhile (a typed code): an open that a stop overtook is let go, and
   * opened afresh if the camera is wanted again by then, so that the page
   * never scans behind an answer, nor with a stream from before it.
   */
  let stream = null, detector = null, canvas = null, looking = false;
  let wanted = false, stops = 0;

  async function startCamera() {
    wanted = true;
    if (stream !== null || looking)
      return;
    looking = true;
    const note = $('camera-note');
    try {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        note.textContent = 'This browser gives no camera here: type the codes.';
        return;
      }
      if (detector === null && 'BarcodeDetector' in window) {
        try {
          const formats = await window.BarcodeDetector.getSupportedFormats();
          if (formats.includes('qr_code'))
            detector = new window.BarcodeDetector({formats: ['qr_code']});
        } catch (e) {
          detector = null;
        }
      }
      if (detector === null && typeof window.jsQR !== 'function') {
        note.textContent = 'This browser cannot read QR codes: type the codes.';
        return;
      }
      while (wanted && stream === null) {
        const seen = stops;
        const opened = await navigator.mediaDevices.getUserMedia({video: {facingMode: 'environment'}, audio: false});
        if (stops !== seen) {
          release(opened);
          continue;
        }
        stream = opened;
        const video = $('video');
        video.srcObject = opened;
        await video.play();
        if (stream !== opened)
          continue;
        note.textContent = '';
        document.body.dataset.camera = 'on';
        setTimeout(look, 100);
      }
    } catch (e) {
      note.textContent = 'No camera (' + e.name + '): type the codes.';
      release(stream);
      stream = null;
    } finally {
      looking = false;
    }
  }

  function stopCamera() {
    wanted = false;
    stops++;
    release(stream);
    stream = null;
    document.body.dataset.camera = 'off';
  }

  function release(opened) {
    if (opened !== null)
      for (const track of opened.getTracks())
        track.stop();
  }

  async function decode(video) {
    if (detector !== null) {
      const found = await detector.detect(video);
      return found.length > 0 ? found[0].rawValue : null;
    }
    const scale = Math.min(1, 640 / video.videoWidth);
    const w = Math.round(video.videoWidth * scale), h = Math.round(video.videoHeight * scale);
    if (canvas === null)
      canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const context = canvas.getContext('2d', {willReadFrequently: true});
    context.drawImage(video, 0, 0, w, h);
    const found = window.jsQR(context.getImageData(0, 0, w, h).data, w, h,
                              {inversionAttempts: 'attemptBoth'});
    return found ? found.data : null;
  }

  async function look() {
    if (stream === null)
      return;
    const video = $('video');
    try {
      if (video.readyState >= 2 && video.videoWidth > 0 && $('result').hidden) {
        const code = await decode(video);
        if (code)
          await scanned(code);
      }
    } catch (e) {
      $('camera-note').textContent = 'Reading the camera failed: ' + e.message;
    }
    if (stream !== null)
      setTimeout(look, 150);
  }

  /* ---- start ------------------------------------------------------------- */

  async function start() {
    state.device = await get('device');
    if (!state.device) {
      const bytes = crypto.getRandomValues(new Uint8Array(2));
      state.device = 'scanner-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
      await set('device', state.device);
    }
    state.auth = (await get('auth')) || null;
    state.event = (await get('event')) || null;
    state.cursor = (await get('cursor')) || 0;
    state.types = (await get('types')) || {};
    $('hold').checked = (await get('hold')) === true;

    $('login-form').addEventListener('submit', signIn);
    $('key-form').addEventListener('submit', useKey);
    $('sign-out').addEventListener('click', () => signedOut(''));
    $('change-event').addEventListener('click', () => pickEvent());
    $('refresh').addEventListener('click', () => download());
    $('hold').addEventListener('change', () => set('hold', $('hold').checked));
    $('result').addEventListener('click', closeAnswer);
    $('code-form').addEventListener('submit', (e) => {
      e.preventDefault();
      unlockSound();
      const code = $('code').value;
      $('code').value = '';
      lastCode = '';
      scanned(code, true);
    });
    window.addEventListener('online', () => { setOnline(true); flush().catch(() => setOnline(false)); });
    window.addEventListener('offline', () => setOnline(false));
    setInterval(async () => {
      if (state.auth === null || state.event === null || !navigator.onLine)
        return;
      try {
        await flush();
        await changes();
        await figures();
      } catch (e) {
        if (!(e instanceof NetworkError))
          throw e;
        setOnline(false);
      }
    }, POLL_MS);

    if ('serviceWorker' in navigator)
      navigator.serviceWorker.register('/checkin/sw.js', {scope: '/checkin/'}).catch(() => {});

    await status();
    if (state.auth === null) {
      show('login');
    } else if (state.event === null) {
      await pickEvent();
    } else {
      $('title').textContent = state.event.title;
      show('scan');
      await figures();
      document.body.dataset.ready = (await ticketCount()) > 0 ? 'yes' : 'no';
      if (navigator.onLine)
        download().then(() => flush()).catch(() => setOnline(false));
      else
        setOnline(false);
    }
  }

  start();
})();
