// The kiosk checks what the citizen typed before sending it, with the rules the server applies
// (server/domain/identity.py): a resident ID number's GB 11643 check character and birth date,
// a mainland mobile number's format. Each check answers null (fine) or the Chinese message to
// show next to the field.

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = "10X98765432";

/** The check character of the first 17 digits. */
export function idCheckChar(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK[sum % 11];
}

/** null, or why the ID number cannot be right. `today` is for tests. */
export function idNumberProblem(value, today = new Date()) {
  const v = String(value).trim().toUpperCase();
  if (v.length !== 18) return `身份证号码应为 18 位，现在是 ${v.length} 位`;
  if (!/^\d{17}[\dX]$/.test(v)) return "身份证号码只能是数字，最后一位可以是 X";
  if (v[0] === "0") return "身份证号码的前 6 位（地区码）不正确，请核对";
  const year = Number(v.slice(6, 10));
  const month = Number(v.slice(10, 12));
  const day = Number(v.slice(12, 14));
  const born = new Date(Date.UTC(year, month - 1, day));
  const valid = born.getUTCFullYear() === year && born.getUTCMonth() === month - 1
    && born.getUTCDate() === day;
  const now = Date.UTC(today.getFullYear(), today.getMonth(), today.getDate());
  if (!valid || year < 1850 || born.getTime() > now) {
    return "身份证号码中的出生日期不正确，请核对";
  }
  if (idCheckChar(v) !== v[17]) return "身份证号码有误（校验位不符），请逐位核对";
  return null;
}

/** null, or why the mobile number cannot be right. */
export function phoneProblem(value) {
  const v = String(value).trim();
  if (!/^\d*$/.test(v)) return "手机号码只能是数字";
  if (v.length !== 11) return `手机号码应为 11 位，现在是 ${v.length} 位`;
  if (!/^1[3-9]/.test(v)) return "手机号码应以 13–19 开头";
  return null;
}
