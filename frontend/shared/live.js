// The live connection of every screen, over either transport:
//
//   connectFeed(...)      plain WebSocket /ws/display (lobby displays, LED layout); token auth
//   connectTerminal(...)  Socket.IO namespace "/hall", event "hall" (window terminal and the
//                         other staff screens); a fresh socket_ticket from GET /api/session
//                         before every (re)connect, since the session cookie is HttpOnly;
//                         the citizen's /track passes its own credential ({track: code})
//
// Both carry the same frames: {"type":"snapshot","seq","data"}, {"type":"live","seq"} and events
// {"seq","type","hall_id","at","window_id","data"}. The client remembers the last seq it applied
// and reconnects (with backoff) asking for what came after it; a snapshot replaces the whole
// state. onStatus(state, message) reports "connecting" | "online" | "offline" (disconnected for
// more than 3 s) | "unauthorized" (the credential was refused: no further retries).
//
// What a connection sends before its live marker is backlog (what happened while this client
// was away): onEvent(frame, {backlog: true}). onLive(seq) says the backlog is applied, so a
// screen can act once on the state it ended in (the lobby reads out only calls still current).
//
// The plain feed has a heartbeat of its own: once live, the client sends {"type":"ping"} every
// PING_EVERY_MS and takes a connection that brought no frame at all (pong, event, anything) for
// SILENT_AFTER_MS as dead, drops it and reconnects, so a silently dead link shows 离线 instead
// of a lobby frozen on its last state. (Browsers answer the server's WebSocket pings but never
// tell the page about them.)
import { api } from "./api.js";

export const OFFLINE_AFTER_MS = 3000;
export const PING_EVERY_MS = 5000;
export const SILENT_AFTER_MS = 15000;
const LIVE_TIMEOUT_MS = 10000;          // connected but no "live" marker by then: start over
const PING = JSON.stringify({ type: "ping" });
export const SKIP = "skip";  // realtime/protocol.py SKIP_FRAME
const SOCKET_IO_SRC = "/static/node_modules/socket.io-client/dist/socket.io.min.js";
const FATAL_FEED_CODES = new Set([
  "unauthenticated", "wrong_role", "other_hall", "unknown_hall", "origin_not_allowed",
]);

/** Reconnect delay: 0.5 s, 1 s, 2 s, 4 s, then `max`, each ±20 % so a hall's screens spread out. */
export function backoff(attempt, max = 5000, base = 500) {
  const d = Math.min(max, base * 2 ** attempt);
  return Math.round(d * (0.8 + Math.random() * 0.4));
}

/** Applies frames in sequence order; answers "gap" when one is missing (then: reconnect). */
export class SeqTracker {
  // scoped: a room subscription gets only some of the hall's events, so its sequence numbers
  // rise with gaps by design; the server's live marker tells the position to resume from.
  constructor(since, onSnapshot, onEvent, scoped = false) {
    this.seq = Number.isInteger(since) ? since : null;
    this.onSnapshot = onSnapshot;
    this.onEvent = onEvent;
    this.scoped = scoped;
  }

  caughtUp(seq) {
    if (this.scoped && typeof seq === "number" && (this.seq === null || seq > this.seq)) this.seq = seq;
  }

  apply(frame, backlog) {
    if (!frame || typeof frame !== "object") return "ok";
    if (frame.type === "snapshot") {
      this.seq = frame.seq;
      this.onSnapshot(frame.data, frame.seq);
      return "ok";
    }
    if (typeof frame.seq !== "number") return "ok";
    if (this.seq !== null && frame.seq <= this.seq) return "ok";     // already applied
    if (this.seq !== null && frame.seq !== this.seq + 1 && !this.scoped) return "gap";
    this.seq = frame.seq;
    // a skip frame holds the place of an event no screen receives: its number is all it says
    if (frame.type !== SKIP) this.onEvent(frame, { backlog });
    return "ok";
  }
}

/** online / connecting / offline, with the 3-second grace before "offline". */
class StatusTracker {
  constructor(onStatus) {
    this.onStatus = onStatus || (() => {});
    this.state = null;
    this.offlineTimer = null;
    this.set("connecting");
    this.lost();
  }

  set(state, message) {
    if (state === this.state && !message) return;
    this.state = state;
    try { this.onStatus(state, message); } catch (err) { console.error(err); }
  }

  online() {
    clearTimeout(this.offlineTimer);
    this.offlineTimer = null;
    this.set("online");
  }

  lost() {
    if (this.state === "online") this.set("connecting");
    if (this.offlineTimer === null && this.state !== "offline") {
      this.offlineTimer = setTimeout(() => {
        this.offlineTimer = null;
        this.set("offline");
      }, OFFLINE_AFTER_MS);
    }
  }

  refused(message) {
    clearTimeout(this.offlineTimer);
    this.offlineTimer = null;
    this.set("unauthorized", message);
  }

  stop() {
    clearTimeout(this.offlineTimer);
  }
}

function wsUrl(path) {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${path}`;
}

/**
 * The plain WebSocket feed. Returns {close(), reconnect(), seq}.
 * @param {{hall?: string, token: string, since?: number, onSnapshot: Function,
 *          onEvent: Function, onLive?: Function, onStatus?: Function, maxDelay?: number,
 *          url?: string, WebSocketImpl?: Function}} options
 */
export function connectFeed({ hall = null, token, since = null, onSnapshot, onEvent, onLive,
  onStatus, maxDelay = 5000, url = null, WebSocketImpl = null }) {
  const tracker = new SeqTracker(since, onSnapshot, onEvent);
  const status = new StatusTracker(onStatus);
  let ws = null;
  let attempt = 0;
  let retryTimer = null;
  let liveTimer = null;
  let pingTimer = null;
  let closed = false;
  let refused = false;

  /** Leaves `sock` for good (whether or not its close handshake ever completes) and, unless
   * the feed was closed or refused, retries with backoff. */
  function drop(sock, reason) {
    if (ws !== sock) return;
    ws = null;
    clearTimeout(liveTimer);
    clearInterval(pingTimer);
    sock.onmessage = null;
    sock.onclose = null;
    try { sock.close(4000, reason); } catch { /* already closing */ }
    if (closed || refused) return;
    status.lost();
    retryTimer = setTimeout(open, backoff(attempt++, maxDelay));
  }

  function open() {
    retryTimer = null;
    if (closed) return;
    const Impl = WebSocketImpl || WebSocket;
    const sock = new Impl(url || wsUrl("/ws/display"));
    ws = sock;
    let live = false;
    let heardAt = Date.now();
    liveTimer = setTimeout(() => drop(sock, "no live marker"), LIVE_TIMEOUT_MS);
    sock.onmessage = (msg) => {
      heardAt = Date.now();
      let frame;
      try { frame = JSON.parse(msg.data); } catch { return; }
      switch (frame.type) {
        case "auth_required":
          sock.send(JSON.stringify({ type: "auth", token, since: tracker.seq, hall }));
          return;
        case "auth_ok":
        case "pong":
          return;
        case "auth_invalid":
          if (FATAL_FEED_CODES.has(frame.code)) {
            refused = true;
            status.refused(frame.message || "认证失败");
          }
          return;
        case "live":
          clearTimeout(liveTimer);
          live = true;
          attempt = 0;
          status.online();
          pingTimer = setInterval(() => {
            if (Date.now() - heardAt > SILENT_AFTER_MS) drop(sock, "silent");
            else sock.send(PING);
          }, PING_EVERY_MS);
          if (onLive) onLive(frame.seq);
          return;
        default:
          if (tracker.apply(frame, !live) === "gap") drop(sock, "gap");
      }
    };
    sock.onclose = () => drop(sock, "closed");
    sock.onerror = () => {};  // onclose follows
  }

  open();
  return {
    get seq() { return tracker.seq; },
    reconnect() { if (ws) drop(ws, "reconnect"); },
    close() {
      closed = true;
      clearTimeout(retryTimer);
      clearTimeout(liveTimer);
      clearInterval(pingTimer);
      status.stop();
      if (ws) ws.close(1000, "bye");
    },
  };
}

let socketIoLoading = null;

/** The socket.io browser client (installed by npm into frontend/node_modules), loaded once. */
export function loadSocketIo() {
  if (window.io) return Promise.resolve(window.io);
  if (!socketIoLoading) {
    socketIoLoading = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = SOCKET_IO_SRC;
      s.onload = () => resolve(window.io);
      s.onerror = () => {
        socketIoLoading = null;
        reject(new Error("socket.io client missing: run `make install` (npm)"));
      };
      document.head.append(s);
    });
  }
  return socketIoLoading;
}

/** A staff screen's handshake credential: a fresh ticket of the cookie session. */
export async function sessionTicket() {
  return { ticket: (await api("/api/session")).socket_ticket };
}

/**
 * The Socket.IO terminal connection (cookie session). Returns {close(), reconnect(), seq}.
 * `rooms` (e.g. ["window:15"]) asks for that window's, queue's or department's events only
 * (plus every window change and hall-wide notice); without it, the whole hall.
 * `credential` gives the handshake's auth before each (re)connect (default: the session's
 * ticket); `scoped` says the stream has gaps by design (rooms, one case); a refusal whose code
 * is in `refusedCodes` ends the retries ("unauthorized").
 * @param {{hall?: string, rooms?: string[], since?: number, onSnapshot: Function,
 *          onEvent: Function, onLive?: Function, onStatus?: Function, maxDelay?: number,
 *          credential?: Function, scoped?: boolean, refusedCodes?: string[]}} options
 */
export function connectTerminal({ hall = null, rooms = null, since = null, onSnapshot, onEvent,
  onLive, onStatus, maxDelay = 5000, credential = sessionTicket, scoped = !!rooms,
  refusedCodes = [] }) {
  const tracker = new SeqTracker(since, onSnapshot, onEvent, scoped);
  const status = new StatusTracker(onStatus);
  let socket = null;
  let attempt = 0;
  let retryTimer = null;
  let liveTimer = null;
  let closed = false;

  function retry() {
    if (closed) return;
    status.lost();
    clearTimeout(retryTimer);
    retryTimer = setTimeout(open, backoff(attempt++, maxDelay));
  }

  function dropped(sock) {
    clearTimeout(liveTimer);
    if (socket !== sock) return;
    socket = null;
    sock.off();
    sock.close();
    retry();
  }

  async function open() {
    retryTimer = null;
    if (closed) return;
    let auth;
    try {
      auth = await credential();
    } catch (err) {
      if (err.status === 401) { status.refused(err.message); return; }
      retry();
      return;
    }
    let io;
    try {
      io = await loadSocketIo();
    } catch (err) {
      console.error(err);
      retry();
      return;
    }
    if (closed) return;
    const sock = io("/hall", {
      path: "/socket.io", transports: ["websocket"], reconnection: false, forceNew: true,
      timeout: 8000, auth: { ...auth, since: tracker.seq, hall, ...(rooms ? { rooms } : {}) },
    });
    socket = sock;
    let live = false;
    liveTimer = setTimeout(() => dropped(sock), LIVE_TIMEOUT_MS);
    // one event "hall" carries one or more frames, in order (the server batches them)
    sock.on("hall", (...frames) => {
      for (const frame of frames) {
        if (socket !== sock) return;
        if (frame && frame.type === "live") {
          tracker.caughtUp(frame.seq);
          clearTimeout(liveTimer);
          live = true;
          attempt = 0;
          status.online();
          if (onLive) onLive(frame.seq);
          continue;
        }
        if (tracker.apply(frame, !live) === "gap") { dropped(sock); return; }
      }
    });
    sock.on("connect_error", (err) => {
      const code = err && err.data && err.data.code;
      if (socket === sock && refusedCodes.includes(code)) {
        clearTimeout(liveTimer);
        socket = null;
        sock.off();
        sock.close();
        status.refused(err.message);
        return;
      }
      dropped(sock);
    });
    sock.on("disconnect", () => dropped(sock));
  }

  open();
  return {
    get seq() { return tracker.seq; },
    reconnect() { if (socket) dropped(socket); },
    close() {
      closed = true;
      clearTimeout(retryTimer);
      clearTimeout(liveTimer);
      status.stop();
      if (socket) { socket.off(); socket.close(); socket = null; }
    },
  };
}
