// Device pages (kiosk, display, the window's rating device) authenticate with a device token, not a person's session.
//
//   /kiosk?device=kiosk-01     first visit: a one-time setup form asks for the device secret
//                              (POST /api/auth/device); the token is kept in localStorage
//   /display?token=...         a token handed over directly (kept as well)
//
// The token is checked with GET /api/session; a refused token brings the setup form back.
import { api, h, hallOf, param } from "./api.js";

const KIND_LABEL = { kiosk: "自助受理机", display: "叫号显示屏", rater: "评价器" };
const KIND_EXAMPLE = { kiosk: "kiosk-01", display: "display-01", rater: "rater-001" };

function storageKey(kind) {
  return `hallops.device.${kind}`;
}

export function storedDevice(kind) {
  try {
    return JSON.parse(localStorage.getItem(storageKey(kind)) || "null");
  } catch {
    return null;
  }
}

function store(kind, value) {
  localStorage.setItem(storageKey(kind), JSON.stringify(value));
}

/** Forgets the device's token (it was refused); the next load shows the setup form. */
export function forgetDevice(kind) {
  const saved = storedDevice(kind);
  if (saved) store(kind, { code: saved.code });
}

async function check(token) {
  try {
    return (await api("/api/session", { token })).actor;
  } catch (err) {
    if (err.status === 401) return null;
    throw err;
  }
}

/**
 * Resolves to {token, actor, hall: {code, name}, code} once the device is set up.
 * `kind` is "kiosk", "display" or "rater" (a window's rating device); the actor must have that
 * role.
 */
export async function deviceLogin(kind) {
  const wanted = param("device");
  const given = param("token");
  if (given) {
    const actor = await waitForServer(() => check(given));
    if (actor) {
      store(kind, { code: wanted || actor.name, token: given });
      return finish(kind, given, actor, wanted || actor.name);
    }
  }
  const saved = storedDevice(kind);
  if (saved && saved.token && (!wanted || saved.code === wanted)) {
    const actor = await waitForServer(() => check(saved.token));
    if (actor && actor.role === kind) return finish(kind, saved.token, actor, saved.code);
  }
  return setupForm(kind, wanted || (saved && saved.code) || "");
}

/** Retries while the server is unreachable (a display may boot before the server). */
async function waitForServer(fn) {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (err.status) throw err;
      await new Promise((r) => setTimeout(r, Math.min(5000, 500 * 2 ** i)));
    }
  }
}

async function finish(kind, token, actor, code) {
  const hall = await waitForServer(() => hallOf(actor, token));
  return { token, actor, hall, code };
}

function setupForm(kind, code) {
  return new Promise((resolve) => {
    const codeInput = h("input", {
      class: "input", name: "code", value: code, required: true, autocomplete: "off",
      placeholder: `例如 ${KIND_EXAMPLE[kind]}`,
    });
    const secretInput = h("input", {
      class: "input", name: "secret", type: "password", required: true, autocomplete: "off",
    });
    const error = h("div", { class: "alert", hidden: true, role: "alert" });
    const submit = h("button", { class: "btn primary", type: "submit" }, "完成设置");
    const form = h("form", { class: "card", autocomplete: "off" },
      h("h1", {}, `${KIND_LABEL[kind]}初始化`),
      h("p", {}, "首次使用本设备时，请由管理员输入设备编号和设备密钥。设置只需一次，之后开机自动连接。"),
      h("label", { class: "field" }, h("span", {}, "设备编号"), codeInput),
      h("label", { class: "field" }, h("span", {}, "设备密钥"), secretInput),
      error, submit);
    const overlay = h("div", { class: "setup" }, form);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.hidden = true;
      submit.disabled = true;
      try {
        const res = await api("/api/auth/device", {
          method: "POST", body: { code: codeInput.value.trim(), secret: secretInput.value },
        });
        if (res.actor.role !== kind) {
          throw new Error(`该设备不是${KIND_LABEL[kind]}，请核对设备编号`);
        }
        store(kind, { code: codeInput.value.trim(), token: res.token, expires_at: res.expires_at });
        overlay.remove();
        resolve(await finish(kind, res.token, res.actor, codeInput.value.trim()));
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        submit.disabled = false;
      }
    });
    document.body.append(overlay);
    (code ? secretInput : codeInput).focus();
  });
}
