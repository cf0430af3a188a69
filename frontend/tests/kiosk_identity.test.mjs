// The kiosk's own checks of ID and mobile numbers (node --test), with the vectors of
// tests/unit/test_identity.py: the browser refuses what the server refuses.
import { test } from "node:test";
import assert from "node:assert/strict";

import { idCheckChar, idNumberProblem, phoneProblem } from "../kiosk/identity.js";

const TODAY = new Date(2026, 11, 1);
const VALID = [
  "11010519491231002X",
  "440524188001010014",
  "110101199003074477",
  "371102198810251231",
  "37110219900307005X",
];

test("valid numbers pass, lower-case x too", () => {
  for (const n of VALID) assert.equal(idNumberProblem(n, TODAY), null, n);
  assert.equal(idNumberProblem("11010519491231002x", TODAY), null);
  assert.equal(idCheckChar("11010519491231002"), "X");
  assert.equal(idCheckChar("44052418800101001"), "4");
});

test("every single digit off by one is caught by the check character", () => {
  for (const n of VALID) {
    for (let i = 0; i < 17; i++) {
      for (const delta of [1, 9]) {
        const d = (Number(n[i]) + delta) % 10;
        const typo = n.slice(0, i) + d + n.slice(i + 1);
        assert.notEqual(idNumberProblem(typo, TODAY), null, typo);
      }
    }
  }
  assert.match(idNumberProblem("11010519491231003X", TODAY), /校验位/);
});

test("length, characters and birth date have their own messages", () => {
  assert.match(idNumberProblem("1101051949123100", TODAY), /18 位，现在是 16 位/);
  assert.match(idNumberProblem("11010519491231002Y", TODAY), /只能是数字/);
  assert.match(idNumberProblem("01010519491231002X", TODAY), /地区码/);
  // 30 February and a birth after today, each with its correct check character
  const feb30 = "11010519490230002";
  assert.match(idNumberProblem(feb30 + idCheckChar(feb30), TODAY), /出生日期/);
  const future = "11010520271201001";
  assert.match(idNumberProblem(future + idCheckChar(future), TODAY), /出生日期/);
});

test("mobile numbers", () => {
  for (const p of ["13800138000", "19912345678", " 15012345678 "]) assert.equal(phoneProblem(p), null, p);
  assert.match(phoneProblem("1380013800"), /11 位，现在是 10 位/);
  assert.match(phoneProblem("12345678901"), /13–19/);
  assert.match(phoneProblem("23800138000"), /13–19/);
  assert.match(phoneProblem("138-0013-8000"), /只能是数字/);
});
