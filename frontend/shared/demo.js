// The demo says it is one: on the pages a newcomer opens first (the start page, the login), a
// ribbon across the top when this installation runs the demo halls, whose passwords are
// published. A real hall's installation shows nothing.
import { api, h } from "./api.js";

export async function showDemoRibbon() {
  let about;
  try {
    about = await api("/api/about");
  } catch {
    return;   // the server unreachable: the page says so itself
  }
  if (!about.demo || document.getElementById("demo-ribbon")) return;
  const ribbon = h("div", { id: "demo-ribbon", class: "demo-ribbon", role: "note" },
    "演示系统：数据均为虚构，演示账号的密码已公开，请勿用于真实业务。正式使用请按部署指南以 init-hall 建立服务中心。");
  document.body.prepend(ribbon);
}

// A page that only needs the ribbon (the start page) loads this module with ?ribbon.
if (import.meta.url.endsWith("?ribbon")) showDemoRibbon();
