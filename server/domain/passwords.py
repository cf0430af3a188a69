"""Password and secret hashing with argon2 (argon2-cffi's PasswordHasher defaults)."""

from __future__ import annotations

import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a miss costs as much as a wrong password.
_DUMMY = _hasher.hash("hallops-no-such-user")
# Each argon2id computation takes 64 MiB; 130 clerks signing in within seconds ran several at
# once in the thread pool (a 419 MB peak in the soak). Two at a time keep a sign-in rush to
# 128 MiB, and a login waits ~50 ms per one ahead of it.
_AT_ONCE = threading.BoundedSemaphore(2)


def hash_password(password: str) -> str:
    with _AT_ONCE:
        return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        with _AT_ONCE:
            return _hasher.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# Password rules (issue 12): long enough to resist guessing at the lock-out's pace, and of
# three kinds of character so a word and its year is not enough. A hall's passwords are typed
# at a window terminal, so no rule demands what a Chinese keyboard makes awkward.
MIN_LENGTH = 10
MIN_CLASSES = 3
HISTORY = 5  # a new password may not be one of the last five
# one-time passwords are read off a screen and typed: no 0/O, 1/l/I
_ALPHABETS = ("abcdefghjkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789")


def password_problem(password: str, username: str) -> str | None:
    """Why a new password is refused (a Chinese sentence), or None when it keeps the rules."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 位"
    classes = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if classes < MIN_CLASSES:
        return "密码须包含大写字母、小写字母、数字、符号中的至少三类"
    if username and username.lower() in password.lower():
        return "密码不能包含用户名"
    return None


def generate_password(length: int = 12) -> str:
    """A one-time password that keeps the rules: every kind of letter and digit, unambiguous."""
    while True:
        chars = [secrets.choice("".join(_ALPHABETS)) for _ in range(length)]
        if all(any(c in a for c in chars) for a in _ALPHABETS):
            return "".join(chars)


def generate_secret() -> str:
    """A device's secret: typed once into the kiosk's set-up screen, then kept by the device."""
    return secrets.token_urlsafe(18)
