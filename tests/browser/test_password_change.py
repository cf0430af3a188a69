"""A password reset by the admin is changed at the next login, in the browser (issue 12): the
login page asks for a new one before going on, says why a weak one is refused, and a page
opened with such a session sends the browser back to set it first."""

from __future__ import annotations

from playwright.async_api import expect

from tests.api_client import Api
from tests.browser.conftest import collect_errors


async def _reset(http, db, username: str) -> str:
    api = Api(http)
    await api.login("admin")
    staff_id = await db.fetchval("select id from staff where username = $1", username)
    return (await api.ok("admin", "POST", f"/api/halls/rizhao/staff/{staff_id}/password-reset"))[
        "password"
    ]


async def test_the_demo_says_it_is_one_on_the_login_and_start_pages(live, new_context):
    page = await (await new_context()).new_page()
    errors: list[str] = []
    collect_errors(page, errors)
    for path in ("/login", "/"):
        await page.goto(f"{live.url}{path}")
        await expect(page.locator("#demo-ribbon")).to_contain_text("演示系统")
    assert not errors, errors


async def test_the_one_time_password_is_changed_at_login(live, http, db, new_context):
    one_time = await _reset(http, db, "clerk001")
    errors: list[str] = []
    page = await (await new_context()).new_page()
    collect_errors(page, errors)
    await page.goto(f"{live.url}/login")
    await page.get_by_label("用户名").fill("clerk001")
    await page.get_by_label("密码", exact=True).fill(one_time)
    await page.locator("#login-submit").click()
    await expect(page.get_by_role("heading", name="请设置新密码")).to_be_visible()
    await expect(page.get_by_label("当前密码")).to_be_hidden()  # just typed: not asked again
    await page.get_by_label("新密码", exact=True).fill("simplepassword")
    await page.get_by_label("再次输入新密码").fill("simplepassword")
    await page.locator("#password-submit").click()
    await expect(page.locator("#password-error")).to_contain_text("至少三类")
    await page.get_by_label("新密码", exact=True).fill("Clerk-001-new")
    await page.get_by_label("再次输入新密码").fill("Clerk-001-other")
    await page.locator("#password-submit").click()
    await expect(page.locator("#password-error")).to_have_text("两次输入的新密码不一致")
    await page.get_by_label("再次输入新密码").fill("Clerk-001-new")
    await page.locator("#password-submit").click()
    await expect(page).to_have_url(f"{live.url}/window")
    # the new password is the one that logs in now
    resp = await http.post(
        "/api/auth/login", json={"username": "clerk001", "password": "Clerk-001-new"}
    )
    assert resp.status == 200
    assert not errors, errors


async def test_a_page_opened_with_a_reset_password_asks_for_a_new_one(live, http, db, new_context):
    one_time = await _reset(http, db, "leader.amr")
    ctx = await new_context()
    page = await ctx.new_page()
    # logged in through the API in this browser (the cookie), then straight to the screen
    resp = await page.request.post(
        f"{live.url}/api/auth/login", data={"username": "leader.amr", "password": one_time}
    )
    assert resp.status == 200
    await page.goto(f"{live.url}/leader")
    await expect(page).to_have_url(f"{live.url}/login?next=%2Fleader&change=1")
    await expect(page.get_by_role("heading", name="请设置新密码")).to_be_visible()
    await page.get_by_label("当前密码").fill(one_time)
    await page.get_by_label("新密码", exact=True).fill("Leader-amr-2027")
    await page.get_by_label("再次输入新密码").fill("Leader-amr-2027")
    await page.locator("#password-submit").click()
    await expect(page).to_have_url(f"{live.url}/leader")
