// Staff login: POST /api/auth/login sets the HttpOnly session cookie; then on to the screen of
// the role (or to ?next= when it is a path of this site).
import { api, $, param } from "../shared/api.js";
import { showDemoRibbon } from "../shared/demo.js";
import { safeNext } from "./next.js";

showDemoRibbon();

const HOME_OF_ROLE = {
  clerk: "/window",
  leader: "/leader",
  supervisor: "/supervision",
  admin: "/admin",
};

function destination(role) {
  return safeNext(param("next"), location.origin) || HOME_OF_ROLE[role] || "/";
}

const form = $("#login-form");
const error = $("#login-error");
const submit = $("#login-submit");

let changeForm = null;
let loginPassword = null;   // the one-time password just typed: the current one of the change
let pendingRole = null;

/** A password reset by the admin must be changed before anything else (the server refuses
 * every other request until it is). */
function askForNewPassword(role, current) {
  pendingRole = role;
  loginPassword = current;
  if (!changeForm) {
    form.replaceWith($("#password-template").content.cloneNode(true));
    changeForm = $("#password-form");
    changeForm.addEventListener("submit", changePassword);
  }
  $("#current-field").hidden = current !== null;
  $(current !== null ? "#new-password" : "#current").focus();
}

async function changePassword(ev) {
  ev.preventDefault();
  const changeError = $("#password-error");
  const current = loginPassword ?? $("#current").value;
  const next = $("#new-password").value;
  if (next !== $("#new-password-2").value) {
    changeError.textContent = "两次输入的新密码不一致";
    changeError.hidden = false;
    return;
  }
  changeError.hidden = true;
  try {
    await api("/api/auth/password", { method: "POST", body: { current, new: next } });
    location.assign(destination(pendingRole));
  } catch (err) {
    if (err.code === "wrong_password") {
      loginPassword = null;
      $("#current-field").hidden = false;
    }
    changeError.textContent = err.message;
    changeError.hidden = false;
  }
}

// Sent here by a page (?change=1): the session is live, its password must be changed first.
if (param("change")) {
  api("/api/session").then(({ actor }) => {
    if (actor.must_change_password) askForNewPassword(actor.role, null);
  }).catch(() => { /* not logged in: the login form stays */ });
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const username = $("#username").value.trim();
  const password = $("#password").value;
  if (!username || !password) {
    error.textContent = "请输入用户名和密码";
    error.hidden = false;
    return;
  }
  error.hidden = true;
  submit.disabled = true;
  submit.textContent = "正在登录…";
  try {
    const { actor } = await api("/api/auth/login", { method: "POST", body: { username, password } });
    if (actor.must_change_password) {
      askForNewPassword(actor.role, password);
      return;
    }
    location.assign(destination(actor.role));
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
    submit.disabled = false;
    submit.textContent = "登 录";
    $("#password").select();
  }
});
