// Staff login: POST /api/auth/login sets the HttpOnly session cookie; then on to the screen of
// the role (or to ?next= when it is a path of this site).
import { api, $, param } from "../shared/api.js";
import { safeNext } from "./next.js";

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
    location.assign(destination(actor.role));
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
    submit.disabled = false;
    submit.textContent = "登 录";
    $("#password").select();
  }
});
