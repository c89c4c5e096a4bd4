#!/usr/bin/env python3
"""Drives the door's page (/checkin/) in headless Chromium, as a person would.

usage: checkin_browser.py CHROMIUM BASE_URL WORKDIR USERNAME PASSWORD EVENT_ID
                          A.png B.png C.png

The camera is Chromium's fake one, fed a video made from a ticket's own QR
PNG (as the server draws it); the test swaps the video between scans, and
the page opens the camera again for each ticket. Chromium is driven with
its DevTools protocol over a pipe (--remote-debugging-pipe), with nothing
but the standard library. The steps:

  1. sign in, pick the event, wait for its ticket list;
  2. scan A: green; scan A again: yellow (when and where); type an unknown
     code while that answer is up: red (a typed code is never dropped),
     and the camera, whose opening is held until then, stays off behind it;
  3. go offline (DevTools network emulation); scan B and C: green, decided
     by the page from its list, two scans waiting; reload the page offline
     (the service worker serves it) and find them still waiting;
  4. come back online: the waiting scans are sent, none waits.

Screenshots of each answer go to WORKDIR/screenshots/. Prints one JSON
object (the device name, the screenshots) on success; exits 1 with what
went wrong otherwise. The caller checks the server's side.
"""
import base64
import fcntl
import json
import os
import queue
import struct
import subprocess
import sys
import threading
import time
import zlib

WIDTH, HEIGHT = 640, 480
STEP_TIMEOUT = 60.0


class Failure(Exception):
    pass


# ---- a video from a QR PNG ---------------------------------------------------

def png_gray(path):
    """The pixels of a greyscale PNG (bit depth 1 or 8): (width, height, rows of 0..255)."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise Failure('%s: not a PNG' % path)
    pos, idat, header = 8, b'', None
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            header = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if colour != 0 or depth not in (1, 8) or interlace != 0:
        raise Failure('%s: expected a greyscale PNG of depth 1 or 8' % path)
    raw = zlib.decompress(idat)
    stride = (width * depth + 7) // 8
    bpp = 1
    rows, prev, pos = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[pos], bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xff
            elif kind == 2:
                line[i] = (line[i] + up) & 0xff
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xff
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xff
        prev = line
        if depth == 8:
            rows.append(bytes(line))
        else:
            rows.append(bytes(255 if line[x >> 3] & (0x80 >> (x & 7)) else 0
                              for x in range(width)))
    return width, height, rows


def y4m_from_png(png, out):
    """A few frames of the QR code, centred on white, as a 4:2:0 Y4M video."""
    width, height, rows = png_gray(png)
    side = HEIGHT - 40
    left, top = (WIDTH - side) // 2, (HEIGHT - side) // 2
    luma = bytearray(b'\xff' * (WIDTH * HEIGHT))
    for y in range(side):
        row = rows[y * height // side]
        base = (top + y) * WIDTH + left
        for x in range(side):
            luma[base + x] = row[x * width // side]
    chroma = b'\x80' * ((WIDTH // 2) * (HEIGHT // 2))
    with open(out, 'wb') as f:
        f.write(b'YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n' % (WIDTH, HEIGHT))
        for _ in range(4):
            f.write(b'FRAME\n' + bytes(luma) + chroma + chroma)


# ---- DevTools over a pipe ----------------------------------------------------

def high(fd):
    """fd moved to a number above 10 (the original closed)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


class Browser:
    def __init__(self, chromium, workdir, camera):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        to_r, from_w = high(to_r), high(from_w)  # never 3 or 4 themselves
        args = [
            '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
            '--no-first-run', '--no-default-browser-check', '--disable-extensions',
            '--disable-background-networking', '--disable-sync', '--mute-audio',
            '--user-data-dir=' + os.path.join(workdir, 'chromium'),
            '--remote-debugging-pipe', '--use-fake-ui-for-media-stream',
            '--use-fake-device-for-media-stream', '--use-file-for-fake-video-capture=' + camera,
            '--autoplay-policy=no-user-gesture-required', '--window-size=412,860',
            '--enable-logging=stderr', '--log-level=0',  # the page's console, in chromium.log
        ]
        # The DevTools pipe is Chromium's fds 3 (commands) and 4 (answers).
        shell = 'exec "$0" "$@" 3<&%d 4>&%d %d<&- %d>&-' % (to_r, from_w, to_r, from_w)
        log = open(os.path.join(workdir, 'chromium.log'), 'wb')
        self.proc = subprocess.Popen(['bash', '-c', shell, chromium] + args + ['about:blank'],
                                     pass_fds=(to_r, from_w), stdout=log, stderr=log)
        os.close(to_r)
        os.close(from_w)
        self.messages = queue.Queue()
        self.events = []
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        self.session = None

    def _read(self):
        buffered = b''
        while True:
            chunk = os.read(self.from_r, 1 << 16)
            if not chunk:
                self.messages.put(None)
                return
            buffered += chunk
            while b'\0' in buffered:
                one, buffered = buffered.split(b'\0', 1)
                self.messages.put(json.loads(one))

    def call(self, method, params=None, session=True, timeout=STEP_TIMEOUT):
        self.next_id += 1
        message = {'id': self.next_id, 'method': method, 'params': params or {}}
        if session and self.session:
            message['sessionId'] = self.session
        os.write(self.to_w, json.dumps(message).encode() + b'\0')
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure('no answer to %s' % method)
            try:
                got = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            if got is None:
                raise Failure('Chromium went away during %s' % method)
            if got.get('id') == self.next_id:
                if 'error' in got:
                    raise Failure('%s: %s' % (method, got['error']))
                return got.get('result', {})
            self.events.append(got)

    def open_page(self):
        target = self.call('Target.createTarget', {'url': 'about:blank'}, session=False)
        attached = self.call('Target.attachToTarget',
                             {'targetId': target['targetId'], 'flatten': True}, session=False)
        self.session = attached['sessionId']
        for domain in ('Page', 'Runtime', 'Network'):
            self.call(domain + '.enable')
        self.call('Emulation.setDeviceMetricsOverride',
                  {'width': 412, 'height': 860, 'deviceScaleFactor': 1, 'mobile': False})

    def js(self, expression):
        result = self.call('Runtime.evaluate', {'expression': expression, 'returnByValue': True,
                                                'awaitPromise': True})
        if 'exceptionDetails' in result:
            raise Failure('%s: %s' % (expression, json.dumps(result['exceptionDetails'])[:500]))
        return result['result'].get('value')

    def wait(self, expression, what, timeout=STEP_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.js(expression)
            except Failure:
                value = None
            if value:
                return value
            time.sleep(0.1)
        page = self.js('document.body ? document.body.innerText : ""') or ''
        state = self.js('JSON.stringify(document.body ? document.body.dataset : {})')
        raise Failure('waited %.0f s for %s; the page says:\n%s\nits state: %s'
                      % (timeout, what, page[:1500], state))

    def screenshot(self, path):
        shot = self.call('Page.captureScreenshot', {'format': 'png'})
        with open(path, 'wb') as f:
            f.write(base64.b64decode(shot['data']))

    def offline(self, yes):
        self.call('Network.emulateNetworkConditions',
                  {'offline': yes, 'latency': 0, 'downloadThroughput': -1,
                   'uploadThroughput': -1})

    def close(self):
        try:
            self.call('Browser.close', session=False, timeout=5)
        except Failure:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ---- the steps ---------------------------------------------------------------

def text(browser, element_id):
    return browser.js('document.getElementById(%s).textContent' % json.dumps(element_id))


def expect_answer(browser, kind, what):
    browser.wait("document.body.dataset.result === %s" % json.dumps(kind), what)
    return text(browser, 'result-title') + '\n' + text(browser, 'result-detail')


def point(camera, video):
    """Puts video in front of the camera, whole at once (a copy renamed)."""
    with open(video, 'rb') as src, open(camera + '.new', 'wb') as dst:
        dst.write(src.read())
    os.replace(camera + '.new', camera)


def next_ticket(browser, camera, video):
    """Points the camera at another ticket, then closes the answer (the page
    opens the camera again, and so reads the new video)."""
    if video:
        point(camera, video)
    browser.js("document.getElementById('result').click()")
    browser.wait("document.body.dataset.result === ''", 'the answer to close')


# The page's next camera open, held until window.heldCamera.release(); the
# ones after it are not held.
HOLD_CAMERA = """(() => {
  const devices = navigator.mediaDevices, open = devices.getUserMedia.bind(devices);
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  window.heldCamera = {asked: false, stream: null, release};
  devices.getUserMedia = async (constraints) => {
    devices.getUserMedia = open;
    window.heldCamera.asked = true;
    const stream = await open(constraints);
    await held;
    window.heldCamera.stream = stream;
    return stream;
  };
  return true;
})()"""


def run(chromium, base, workdir, username, password, event, pngs):
    shots = os.path.join(workdir, 'screenshots')
    os.makedirs(shots, exist_ok=True)
    videos = []
    for i, png in enumerate(pngs):
        video = os.path.join(workdir, 'ticket-%d.y4m' % i)
        y4m_from_png(png, video)
        videos.append(video)
    blank = os.path.join(workdir, 'blank.y4m')
    with open(blank, 'wb') as f:
        f.write(b'YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n' % (WIDTH, HEIGHT))
        for _ in range(4):
            f.write(b'FRAME\n' + b'\xff' * (WIDTH * HEIGHT) + b'\x80' * (WIDTH * HEIGHT // 2))
    camera = os.path.join(workdir, 'camera.y4m')
    point(camera, videos[0])

    browser = Browser(chromium, workdir, camera)
    try:
        browser.open_page()
        browser.call('Page.navigate', {'url': base + '/checkin/'})
        browser.wait("!document.getElementById('login').hidden", 'the sign-in form')
        browser.js("document.getElementById('username').value = %s;"
                   "document.getElementById('password').value = %s;"
                   "document.getElementById('login-form').requestSubmit(); true"
                   % (json.dumps(username), json.dumps(password)))
        pick = "document.querySelector('#event-list button[data-event=\"%d\"]')" % event
        browser.wait('!!' + pick, 'event %d in the list of events' % event)
        browser.js(pick + '.click(); true')
        browser.wait("document.body.dataset.ready === 'yes'", 'the ticket list')
        browser.js("document.getElementById('hold').click(); true")  # answers stay until tapped
        device = browser.wait("document.body.dataset.online === 'yes' && "
                              "document.getElementById('status').textContent.split(' · ')[1]",
                              'the device name')

        # Online: green, then yellow for the same ticket, then red for a typed code.
        green = expect_answer(browser, 'ok', 'a green answer for ticket A')
        browser.screenshot(os.path.join(shots, '1-green.png'))
        next_ticket(browser, camera, None)
        yellow = expect_answer(browser, 'warn', 'a yellow answer for ticket A scanned again')
        if device not in yellow:
            raise Failure('the yellow answer does not say where: %r' % yellow)
        browser.screenshot(os.path.join(shots, '2-yellow.png'))
        # A code typed while an answer is up closes it and is decided, never
        # dropped. (The camera, opened again, sees no ticket meanwhile.)
        # Closing the answer opens the camera; the open is held here until
        # the red answer is up, as a slow camera on a busy phone would be:
        # the camera must not come on behind an answer, nor stay open with
        # a stream taken before it (the next ticket would go unseen).
        point(camera, blank)
        browser.js(HOLD_CAMERA)
        browser.js("document.getElementById('code').value = 'no-such-ticket';"
                   "document.getElementById('code-form').requestSubmit(); true")
        red = expect_answer(browser, 'bad', 'a red answer for an unknown code')
        browser.wait('window.heldCamera.asked', 'the page to open the camera')
        browser.js('window.heldCamera.release(); true')
        browser.wait("window.heldCamera.stream !== null && "
                     "(document.body.dataset.camera === 'on' || window.heldCamera.stream"
                     ".getTracks().every((t) => t.readyState === 'ended'))",
                     'the held camera to be opened or let go')
        if browser.js('document.body.dataset.camera') != 'off':
            raise Failure('the camera came on behind the red answer')
        if browser.js('document.body.dataset.result') != 'bad':
            raise Failure('the red answer went away with the camera')
        browser.screenshot(os.path.join(shots, '3-red.png'))

        # Offline: two tickets decided here and kept.
        browser.offline(True)
        next_ticket(browser, camera, videos[1])
        browser.wait("document.body.dataset.online === 'no'", 'the page to know it is offline')
        offline_b = expect_answer(browser, 'ok', 'a green answer for ticket B, offline')
        browser.wait("document.body.dataset.pending === '1'", 'one scan waiting')
        next_ticket(browser, camera, videos[2])
        offline_c = expect_answer(browser, 'ok', 'a green answer for ticket C, offline')
        browser.wait("document.body.dataset.pending === '2'", 'two scans waiting')
        browser.screenshot(os.path.join(shots, '4-offline.png'))

        # The page opens again without a network: its service worker has it.
        # (The camera sees no ticket meanwhile.)
        point(camera, blank)
        browser.wait("navigator.serviceWorker.controller !== null",
                     'the service worker to control the page')
        browser.call('Page.reload')
        browser.wait("document.body && document.body.dataset.pending === '2' && "
                     "!document.getElementById('scan').hidden",
                     'the page, reloaded offline, with its two waiting scans')

        # Online again: the waiting scans go to the server.
        browser.offline(False)
        browser.js("window.dispatchEvent(new Event('online')); true")
        browser.wait("document.body.dataset.pending === '0'", 'the waiting scans to be sent')
        browser.wait("document.getElementById('count-in').textContent === '3'",
                     'three tickets in, on the page')
        browser.screenshot(os.path.join(shots, '5-scanner.png'))
        print(json.dumps({'device': device, 'green': green, 'yellow': yellow, 'red': red,
                          'offline': [offline_b, offline_c],
                          'screenshots': sorted(os.listdir(shots))}))
    finally:
        browser.close()


def main():
    if len(sys.argv) != 10:
        sys.exit(__doc__)
    chromium, base, workdir, username, password, event = sys.argv[1:7]
    try:
        run(chromium, base.rstrip('/'), workdir, username, password, int(event), sys.argv[7:10])
    except Failure as e:
        print('checkin_browser: %s' % e, file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
