"""The kiosk checks ID and mobile numbers before it sends them and shows each problem in
Chinese next to its field; what the server refuses shows there too; the notice still prints
through the kiosk's own frame under the Content-Security-Policy."""

from __future__ import annotations

import json

from playwright.async_api import expect

from server import demo_hall
from tests.browser.conftest import collect_errors
from tests.queue_helpers import item_of_window

REGISTRATIONS = "**/api/halls/rizhao/registrations"


async def open_item(page, base: str, item: str) -> None:
    await page.goto(f"{base}/kiosk?device=kiosk-01")
    await page.get_by_label("设备密钥").fill(demo_hall.DEMO_PASSWORDS["kiosk"])
    await page.get_by_role("button", name="完成设置").click()
    await page.locator(f".k-card[data-code='{item}']").click()
    await expect(page.locator("#reg-form")).to_be_visible()


async def test_kiosk_shows_input_errors_next_to_the_fields(live, db, new_context):
    errors: list[str] = []
    item = await item_of_window(db, 1)
    page = await (await new_context()).new_page()
    collect_errors(page, errors)
    sent: list[str] = []
    page.on(
        "request",
        lambda r: sent.append(r.url) if r.method == "POST" and "/registrations" in r.url else None,
    )
    await open_item(page, live.url, item)
    phone, id_number = page.locator("#phone"), page.locator("#id-number")
    phone_error, id_error = page.locator("#phone-error"), page.locator("#id-number-error")

    # one digit of a valid number mistyped, and a phone one digit short
    await id_number.fill("11010519491231003X")
    await phone.fill("1381234123")
    await page.get_by_role("button", name="确认取号").click()
    await expect(id_error).to_have_text("身份证号码有误（校验位不符），请逐位核对")
    await expect(phone_error).to_have_text("手机号码应为 11 位，现在是 10 位")
    await expect(id_number).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#reg-error")).to_be_hidden()
    assert sent == []  # nothing went to the server

    # typing clears a field's error; the phone alone is still wrong
    await id_number.fill("11010519491231002X")
    await expect(id_error).to_be_hidden()
    await page.get_by_role("button", name="确认取号").click()
    await expect(phone_error).to_be_visible()
    assert sent == []

    # what the server refuses is shown next to the field it names
    async def refuse(route):
        await route.fulfill(
            status=400,
            content_type="application/json",
            body=json.dumps(
                {"error": {"code": "invalid_phone", "message": "手机号码不正确", "field": "phone"}}
            ),
        )

    await page.route(REGISTRATIONS, refuse)
    await phone.fill("13812341234")
    await page.get_by_role("button", name="确认取号").click()
    await expect(phone_error).to_have_text("手机号码不正确")
    await page.unroute(REGISTRATIONS)

    # right numbers: the ticket, stored with the numbers as typed
    await page.get_by_role("button", name="确认取号").click()
    await expect(page.get_by_text("取号成功")).to_be_visible()
    code = (await page.locator("#done-code").inner_text()).strip()
    row = await db.fetchrow("select phone, id_number from registration where query_code = $1", code)
    assert (row["phone"], row["id_number"]) == ("13812341234", "11010519491231002X")

    # the notice prints through the kiosk's own frame (frame-ancestors 'self' on /notice)
    await page.get_by_role("button", name="打印告知单").click()
    frame = page.frame_locator("#print-frame")
    # (the frame itself is hidden: its page is printed, never shown)
    await expect(frame.locator(".n-code")).to_have_text(f"{code[:4]} {code[4:]}")
    assert errors == [], errors
